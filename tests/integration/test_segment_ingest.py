"""``idgraph ingest --format segment``: a warehouse/bucket dump of Segment messages."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_ingest_a_segment_dump(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    dump = tmp_path / "segment-2026-11-30.jsonl"
    common = {"receivedAt": "2026-11-30T09:00:01Z", "sentAt": "2026-11-30T09:00:00Z"}
    lines = [
        {
            "type": "page",
            "messageId": "d-1",
            "anonymousId": "anon-dump",
            "name": "Home",
            "originalTimestamp": "2026-11-30T08:59:00Z",
            "context": {"ip": "198.51.100.4"},
            **common,
        },
        {
            "type": "identify",
            "messageId": "d-2",
            "anonymousId": "anon-dump",
            "userId": "u-dump",
            "traits": {"email": "dump.user@example.com", "first_name": "Dee"},
            "timestamp": "2026-11-30T09:00:00Z",
            **common,
        },
        {
            "type": "track",
            "messageId": "d-3",
            "userId": "u-dump",
            "event": "Order Completed",
            "properties": {"revenue": 12.0, "currency": "USD"},
            "timestamp": "2026-11-30T09:01:00Z",
            **common,
        },
        {"type": "track", "messageId": "d-4", "userId": "u-dump"},  # no event name
    ]
    dump.write_text("\n".join(json.dumps(m) for m in lines) + "\n{not json\n")
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        ingest = run_cli("ingest", "--format", "segment", str(dump), data_dir=data_dir)
        assert ingest.returncode == 0, ingest.stderr
        assert "5 records, 3 accepted" in ingest.stdout and "2 rejected" in ingest.stdout
        rejects = next((data_dir / "rejects").glob("segment-2026-11-30.jsonl.*.jsonl"))
        reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
        assert any("event name" in r for r in reasons) and len(reasons) == 2
        assert run_cli("resolve", data_dir=data_dir).returncode == 0
        found = run_cli("lookup", "email", "Dump.User@example.com", data_dir=data_dir)
        assert found.returncode == 0, found.stderr
        profile = json.loads(found.stdout)["profile"]
        members = {(i["type"], i["value"]) for i in profile["identifiers"]}
        assert {("user_id", "u-dump"), ("anonymous_id", "anon-dump")} <= members
        # the page's device time is corrected: receivedAt - (sentAt - originalTimestamp)
        assert profile["first_seen"].startswith("2026-11-30T08:59:01")
    finally:
        run_cli("store", "stop", data_dir=data_dir)
