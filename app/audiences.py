"""Audience files: a segment's members written for ad platforms and e-mail tools.

Formats (columns documented in the README, "Audience exports"):

``google_customer_match``
    Google Ads Customer Match, hashed: header ``Email,Email,Email,Phone,Phone,Phone``
    (Google accepts several Email and Phone columns); each cell the SHA-256 hex of the
    trimmed, lowercased e-mail or of the phone in E.164 (``+14155550123``).
``meta_custom_audience``
    Meta custom audience customer list, hashed: header ``email,email,email,phone,phone,phone``
    (Meta takes up to three of each); e-mails as above, phones hashed as E.164 digits
    without the ``+`` (``14155550123``), Meta's normalization.
``csv`` / ``jsonl``
    Plain values for e-mail tools: profile ID, e-mails, phones, facts, RFM group and
    chosen traits.

A profile contributes at most three e-mails and three phones (its own, never
quarantined values such as a till placeholder); hashed formats skip profiles with
neither. Files are written a page of members at a time to ``<name>.partial`` and
renamed when complete, so a reader never sees a half-written file under the final
name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.resources import Resources
from app.segments import iter_members, member_facts, segment_condition
from graph.errors import InputError
from graph.ingest.events import format_ts

__all__ = [
    "FORMATS",
    "ExportResult",
    "check_format",
    "export_path",
    "hash_email",
    "hash_phone_e164",
    "hash_phone_meta",
    "write_audience",
]

logger = logging.getLogger(__name__)

#: values of one type a row carries (Meta's limit; Google accepts more)
PER_TYPE = 3


def hash_email(value: str) -> str:
    """SHA-256 hex of the trimmed, lowercased address."""
    return _sha256(value.strip().lower())


def hash_phone_e164(value: str) -> str:
    """SHA-256 hex of the E.164 number with its ``+`` (Google Customer Match)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return _sha256("+" + digits)


def hash_phone_meta(value: str) -> str:
    """SHA-256 hex of the E.164 digits without ``+`` (Meta custom audiences)."""
    return _sha256("".join(ch for ch in value if ch.isdigit()))


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    description: str
    hashed: bool


FORMATS = {
    f.name: f
    for f in (
        Format("google_customer_match", "csv", "Google Ads Customer Match (hashed)", True),
        Format("meta_custom_audience", "csv", "Meta custom audience list (hashed)", True),
        Format("csv", "csv", "plain CSV for e-mail tools", False),
        Format("jsonl", "jsonl", "JSON Lines, one profile a line", False),
    )
}


@dataclass
class ExportResult:
    path: Path
    rows: int  #: lines written (header excluded)
    skipped: int  #: members without a value the format needs
    bytes: int
    sha256: str  #: of the file, to check a download

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "rows": self.rows,
            "skipped": self.skipped,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


def export_path(res: Resources, export_id: str, fmt: str) -> Path:
    """Where an export's finished file lives (shared by the worker and the API)."""
    folder = res.config.data_dir / "exports" / res.config.graph_name
    return folder / f"{export_id}.{FORMATS[fmt].extension}"


def write_audience(
    res: Resources,
    segment_id: str,
    fmt: str,
    output: Path,
    *,
    traits: Sequence[str] = (),
    page_size: int = 1000,
    progress: Callable[[int, int, int], None] | None = None,
    min_confidence: float = 0.0,
    household: bool = False,
) -> ExportResult:
    """Write the segment's current members to ``output`` in ``fmt``.

    ``progress(rows, skipped, members_seen)`` is called after every page. Memory
    holds one page of members, whatever the segment's size. With ``min_confidence``,
    each profile's identifiers are those that stand without links below it. With
    ``household``, one row per household (graph/resolve/households.py): its member
    profiles' identifiers and summed facts, the household ID in ``profile_id``; a
    member in no household is a row of its own. Members in households are held until
    the end (memory grows with them, not with the segment's other members).
    """
    check_format(fmt)
    condition = segment_condition(res, segment_id)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    rows = skipped = seen = 0
    digest = hashlib.sha256()
    try:
        with partial.open("w", encoding="utf-8", newline="") as f:
            header = _header(fmt, traits)
            if header is not None:
                digest.update(_write_text(f, _csv_line(header)))
            homes: dict[str, dict[str, Any]] = {}
            for page in iter_members(res, condition, page_size=page_size,
                                     min_confidence=min_confidence):  # fmt: skip
                lines: list[str | None] = []
                for member in page:
                    hid = member.get("household_id") if household else None
                    if hid is not None:
                        homes[hid] = _joined(homes.get(hid), member, hid)
                        continue
                    lines.append(_line(fmt, member, traits))
                written = [line for line in lines if line is not None]
                digest.update(_write_text(f, "".join(written)))
                rows += len(written)
                skipped += len(lines) - len(written)
                seen += len(page)
                if progress is not None:
                    progress(rows, skipped, seen)
            lines = [_line(fmt, homes[hid], traits) for hid in sorted(homes)]
            written = [line for line in lines if line is not None]
            digest.update(_write_text(f, "".join(written)))
            rows += len(written)
            skipped += len(lines) - len(written)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(output, rows, skipped, output.stat().st_size, digest.hexdigest())


def _joined(home: dict[str, Any] | None, member: dict[str, Any], hid: str) -> dict[str, Any]:
    """A household as one member row: identifiers of all its profiles, facts added up;
    traits left out (they are one person's)."""
    if home is None:
        return {**member, "profile_id": hid, "traits": {}, "rfm_group": None,
                "rfm_score": None, "identifiers": list(member["identifiers"])}  # fmt: skip
    last = [t for t in (home["last_purchase"], member["last_purchase"]) if t is not None]
    return {
        **home,
        "size": home["size"] + member["size"],
        "first_seen": min(t for t in (home["first_seen"], member["first_seen"]) if t is not None)
        if home["first_seen"] is not None or member["first_seen"] is not None else None,
        "last_seen": max(t for t in (home["last_seen"], member["last_seen"]) if t is not None)
        if home["last_seen"] is not None or member["last_seen"] is not None else None,
        "event_count": home["event_count"] + member["event_count"],
        "purchase_count": home["purchase_count"] + member["purchase_count"],
        "purchase_total": home["purchase_total"] + member["purchase_total"],
        "last_purchase": max(last) if last else None,
        "identifiers": [*home["identifiers"], *member["identifiers"]],
    }  # fmt: skip


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}", field="format")


def _header(fmt: str, traits: Sequence[str]) -> list[str] | None:
    if fmt == "google_customer_match":
        return ["Email"] * PER_TYPE + ["Phone"] * PER_TYPE
    if fmt == "meta_custom_audience":
        return ["email"] * PER_TYPE + ["phone"] * PER_TYPE
    if fmt == "csv":
        return [
            "profile_id",
            "email",
            "phone",
            "emails",
            "phones",
            "first_seen",
            "last_seen",
            "purchase_count",
            "purchase_total",
            "last_purchase",
            "rfm_group",
            *(f"trait_{t}" for t in traits),
        ]
    return None


def _line(fmt: str, member: dict[str, Any], traits: Sequence[str]) -> str | None:
    emails = _values(member, "email")
    phones = _values(member, "phone")
    if fmt in ("google_customer_match", "meta_custom_audience"):
        if not emails and not phones:
            return None
        hash_phone = hash_phone_e164 if fmt == "google_customer_match" else hash_phone_meta
        return _csv_line(
            _padded([hash_email(e) for e in emails]) + _padded([hash_phone(p) for p in phones])
        )
    member_traits = member["traits"]
    if fmt == "csv":
        return _csv_line(
            [
                member["profile_id"],
                emails[0] if emails else "",
                phones[0] if phones else "",
                ";".join(emails),
                ";".join(phones),
                format_ts(member["first_seen"]) or "",
                format_ts(member["last_seen"]) or "",
                member["purchase_count"],
                f"{member['purchase_total']:.2f}",
                format_ts(member["last_purchase"]) or "",
                member["rfm_group"] or "",
                *(_trait(member_traits, t) for t in traits),
            ]
        )
    identifiers: dict[str, list[str]] = {}
    for i in member["identifiers"]:
        if not i["quarantined"]:
            identifiers.setdefault(i["type"], []).append(i["value"])
    body = {
        "profile_id": member["profile_id"],
        "identifiers": identifiers,
        **member_facts(member),
        "rfm_score": member["rfm_score"],
        "traits": {k: v["value"] for k, v in member_traits.items() if not traits or k in traits},
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n"


def _values(member: dict[str, Any], type_name: str) -> list[str]:
    values = sorted(
        i["value"] for i in member["identifiers"] if i["type"] == type_name and not i["quarantined"]
    )
    return values[:PER_TYPE]


def _trait(traits: dict[str, Any], name: str) -> str:
    value = traits.get(name, {}).get("value")
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _padded(values: Iterable[str]) -> list[str]:
    cells = list(values)[:PER_TYPE]
    return cells + [""] * (PER_TYPE - len(cells))


def _csv_line(cells: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _write_text(f: io.TextIOBase | Any, text: str) -> bytes:
    f.write(text)
    return text.encode("utf-8")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
