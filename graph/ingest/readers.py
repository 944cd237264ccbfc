"""Reading event files (JSON Lines, CSV) into raw records, line by line.

A line that cannot be decoded becomes a record with an ``error`` and no
``raw`` object: it is reported and skipped, never fatal. Only a file that
cannot be opened raises (:class:`InputError`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from graph.errors import InputError

__all__ = ["FORMATS", "RawRecord", "detect_format", "read_records"]

#: ``segment``: JSON Lines of Segment-spec messages (graph.ingest.segment_messages translates them)
FORMATS = ("jsonl", "csv", "segment")
_CSV_BASE = ("event_id", "timestamp", "source", "type")


@dataclass(frozen=True)
class RawRecord:
    """One line of input: its number, the decoded object or why it could not be."""

    line: int
    raw: object = None
    error: str | None = None
    #: the event ID, when known although the record is unusable (for its reject)
    event_id: str | None = None


def detect_format(path: Path, explicit: str | None = None) -> str:
    """``jsonl`` or ``csv``, from ``explicit`` or the file's extension."""
    if explicit:
        if explicit not in FORMATS:
            raise InputError(f"unknown format {explicit!r}; use one of {', '.join(FORMATS)}")
        return explicit
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if ".csv" in suffixes:
        return "csv"
    if {".jsonl", ".ndjson", ".json"} & set(suffixes):
        return "jsonl"
    raise InputError(f"{path}: cannot tell the format from the name; pass --format jsonl|csv")


def read_records(
    path: Path, fmt: str, *, on_progress: Callable[[int], object] | None = None
) -> Iterator[RawRecord]:
    """Yield one :class:`RawRecord` per non-blank line (CSV: per data row).

    Files ending in ``.gz`` are decompressed on the fly. ``on_progress`` is
    called with the number of bytes of the file (compressed, if it is) read
    since its last call.
    """
    try:
        raw = path.open("rb")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e
    with raw:
        handle = cast(IO[bytes], gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw)
        progress = _Progress(raw, on_progress) if on_progress else None
        try:
            if fmt == "csv":
                yield from _read_csv(handle, progress)
            else:
                yield from _read_jsonl(handle, progress)
        except (OSError, EOFError) as e:  # corrupt gzip, disk errors mid-file
            raise InputError(f"cannot read {path}: {e}") from e


class _Progress:
    """Reports how far into the underlying file reading has got."""

    def __init__(self, raw: IO[bytes], callback: Callable[[int], object]) -> None:
        self.raw = raw
        self.callback = callback
        self.last = 0

    def __call__(self) -> None:
        position = self.raw.tell()
        if position != self.last:
            self.callback(position - self.last)
            self.last = position


def _read_jsonl(handle: IO[bytes], progress: _Progress | None) -> Iterator[RawRecord]:
    for number, data in enumerate(handle, start=1):
        if progress and number % 256 == 0:
            progress()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRecord(number, error="line is not valid UTF-8")
            continue
        if not text.strip():
            continue
        try:
            yield RawRecord(number, raw=json.loads(text))
        except json.JSONDecodeError as e:
            yield RawRecord(number, error=f"not valid JSON: {e.msg} at column {e.colno}")
    if progress:
        progress()


def _read_csv(handle: IO[bytes], progress: _Progress | None) -> Iterator[RawRecord]:
    text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
    reader = csv.DictReader(text)
    columns = reader.fieldnames or []
    missing = [c for c in _CSV_BASE if c not in columns]
    if missing:
        raise InputError(f"CSV header lacks column(s): {', '.join(missing)}")
    for row in reader:
        if progress and reader.line_num % 256 == 0:
            progress()
        line = reader.line_num
        if None in row:
            yield RawRecord(line, error="more cells than header columns")
            continue
        yield RawRecord(line, raw=csv_row_to_event(row))
    if progress:
        progress()


def csv_row_to_event(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON event shape: identifier columns, ``trait_*``, ``prop_*``."""
    event: dict[str, Any] = {name: row.get(name) for name in _CSV_BASE}
    identifiers: list[dict[str, str]] = []
    traits: dict[str, str] = {}
    properties: dict[str, Any] = {}
    for column, cell in row.items():
        if column in _CSV_BASE or cell is None or cell.strip() == "":
            continue
        if column == "user_agent":
            event["context"] = {"user_agent": cell}
        elif column.startswith("trait_"):
            traits[column[6:]] = cell
        elif column.startswith("prop_"):
            properties[column[5:]] = _number_or_text(cell) if column == "prop_amount" else cell
        else:
            identifiers.append({"type": column, "value": cell})
    event["identifiers"] = identifiers
    if traits:
        event["traits"] = traits
    if properties:
        event["properties"] = properties
    return event


def _number_or_text(cell: str) -> float | str:
    try:
        return float(cell)
    except ValueError:
        return cell
