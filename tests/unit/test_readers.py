from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import InputError
from graph.ingest.readers import detect_format, read_records


def test_jsonl_lines_good_bad_and_blank(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"broken": \n\xff\xfe\n[1]\n')
    records = list(read_records(path, "jsonl"))
    assert [(r.line, r.raw, r.error is not None) for r in records] == [
        (1, {"a": 1}, False),
        (3, None, True),
        (4, None, True),
        (5, [1], False),
    ]
    assert "not valid JSON" in (records[1].error or "")
    assert "UTF-8" in (records[2].error or "")


def test_csv_rows_become_events(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "event_id,timestamp,source,type,email,phone,ip,user_agent,trait_city,prop_amount,prop_currency\n"
        "e1,2026-03-10T08:48:34Z,pos,purchase,a@b.com,,1.2.3.4,UA,Boston,12.5,USD\n"
        "e2,2026-03-10T08:48:34Z,pos,purchase,,,,,,,\n"
        "e3,2026-03-10T08:48:34Z,pos,purchase,a@b.com,,,,,,,,extra\n"
    )
    records = list(read_records(path, "csv"))
    first = records[0].raw
    assert first == {
        "event_id": "e1",
        "timestamp": "2026-03-10T08:48:34Z",
        "source": "pos",
        "type": "purchase",
        "identifiers": [{"type": "email", "value": "a@b.com"}, {"type": "ip", "value": "1.2.3.4"}],
        "context": {"user_agent": "UA"},
        "traits": {"city": "Boston"},
        "properties": {"amount": 12.5, "currency": "USD"},
    }
    assert records[1].raw is not None and records[1].raw["identifiers"] == []  # type: ignore[index]
    assert records[2].error == "more cells than header columns"
    assert [r.line for r in records] == [2, 3, 4]


def test_csv_without_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("id,email\n1,a@b.com\n")
    with pytest.raises(InputError, match="lacks column"):
        list(read_records(path, "csv"))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        list(read_records(tmp_path / "nope.jsonl", "jsonl"))


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(Path("a.jsonl")) == "jsonl"
    assert detect_format(Path("a.ndjson")) == "jsonl"
    assert detect_format(Path("a.csv.gz")) == "csv"
    assert detect_format(Path("a.txt"), "csv") == "csv"
    with pytest.raises(InputError):
        detect_format(Path("a.txt"))
    with pytest.raises(InputError):
        detect_format(Path("a.txt"), "xml")


def test_progress_reports_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n')
    seen: list[int] = []
    list(read_records(path, "jsonl", on_progress=seen.append))
    assert sum(seen) == path.stat().st_size


def test_gzip_files_are_read(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "e.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write('{"a": 1}\n{"b": 2}\n')
    seen: list[int] = []
    assert [r.raw for r in read_records(path, "jsonl", on_progress=seen.append)] == [
        {"a": 1},
        {"b": 2},
    ]
    assert sum(seen) == path.stat().st_size
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot read"):
        list(read_records(broken, "jsonl"))
