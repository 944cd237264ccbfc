"""The operational basics through a real server and the real CLI: /metrics scraped
by Prometheus' own parser, JSON logs with request IDs, progress bars only on request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from ml.synthetic import GeneratedData
from tests.conftest import run_cli, serving

EMAIL = "metrics.person@example.com"


def _call(url: str, key: str | None = None, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:  # fmt: skip
    sent = {"Authorization": f"Bearer {key}"} if key else {}
    sent.update(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return int(r.status), r.read(), r.headers  # case-insensitive
    except urllib.error.HTTPError as e:
        return int(e.code), e.read(), e.headers


def _key(data_dir: Path, scope: str) -> str:
    made = run_cli("keys", "create", "--name", f"ops-{scope}", "--scope", scope, data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_json_logs_and_request_ids(tmp_path: Path, small_data: GeneratedData) -> None:
    data_dir = tmp_path / "data"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        assert run_cli("ingest", str(small_data.events_path), data_dir=data_dir).returncode == 0
        assert run_cli("resolve", data_dir=data_dir).returncode == 0
        admin, reader, writer = (_key(data_dir, s) for s in ("admin", "read", "ingest"))
        env = {"IDGRAPH_LOG_FORMAT": "json", "IDGRAPH_LOG_LEVEL": "INFO"}
        with serving(data_dir, env=env) as server:
            base = server.base
            event = {
                "event_id": "ops-1",
                "timestamp": "2026-05-01T10:00:00Z",
                "source": "web",
                "type": "login",
                "identifiers": {"email": EMAIL, "cookie_id": "ck-ops"},
            }
            bad = {"event_id": "ops-2", "timestamp": "yesterday", "source": "web",
                   "type": "login", "identifiers": {"email": EMAIL}}  # fmt: skip
            status, _, _ = _call(f"{base}/v1/events", writer, {"events": [event, bad]})
            assert status == 200
            status, _, headers = _call(f"{base}/v1/identifiers/email/{EMAIL}/profile", reader,
                                       headers={"X-Request-ID": "desk-call-42"})  # fmt: skip
            assert status == 200 and headers["X-Request-ID"] == "desk-call-42"
            _, _, headers = _call(f"{base}/health", headers={"X-Request-ID": "bad id; forged=1"})
            assert len(headers["X-Request-ID"]) == 32  # not the caller's: a fresh one

            assert _call(f"{base}/metrics")[0] == 401
            assert _call(f"{base}/metrics", reader)[0] == 403
            status, text, headers = _call(f"{base}/metrics", admin)
            assert status == 200 and headers["Content-Type"].startswith("text/plain")
        samples = _samples(text.decode())
    finally:
        run_cli("store", "stop", data_dir=data_dir)

    route = "/v1/identifiers/<string:type_name>/<path:value>/profile"
    assert samples[("idgraph_http_requests_total",
                    (("method", "GET"), ("route", route), ("status", "200")))] == 1  # fmt: skip
    assert samples[("idgraph_collected_events_total", (("outcome", "accepted"),))] == 1
    assert samples[("idgraph_collected_events_total", (("outcome", "rejected"),))] == 1
    # the POST's real-time update, alone: one update for one request
    assert samples[("idgraph_realtime_updates_total", ())] == 1
    assert samples[("idgraph_realtime_update_requests_total", ())] == 1
    assert samples[("idgraph_realtime_update_seconds_count", ())] == 1
    assert samples[("idgraph_store_up", ())] == 1
    profiles = samples[("idgraph_profiles", ())]
    assert profiles > 100
    assert samples[("idgraph_profile_size_bucket", (("le", "+Inf"),))] == profiles
    assert samples[("idgraph_profile_size_bucket", (("le", "1.0"),))] < profiles
    assert samples[("idgraph_nodes", (("label", "Event"),))] > 1000
    assert samples[("idgraph_last_resolve_success", ())] == 1
    assert samples[("idgraph_last_resolve_seconds", ())] > 0
    assert ("idgraph_quarantined_identifiers", ()) in samples
    assert samples[("idgraph_jobs_queued", ())] == 0
    assert not any(EMAIL in str(key) for key in samples)  # no personal data in labels

    lines = [json.loads(line) for line in server.stderr.splitlines() if line.startswith("{")]
    assert lines, server.stderr[-2000:]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "idgraph.access"]
    desk = [line for line in access if line.get("request_id") == "desk-call-42"]
    assert len(desk) == 1 and route in desk[0]["message"] and " 200 " in desk[0]["message"]
    assert EMAIL not in server.stderr


def test_progress_bars_only_on_a_terminal_or_on_request(
    tmp_path: Path, small_data: GeneratedData
) -> None:
    data_dir = tmp_path / "data"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        assert run_cli("ingest", str(small_data.events_path), data_dir=data_dir).returncode == 0
        quiet = run_cli("resolve", data_dir=data_dir)  # not a terminal: one summary line
        assert quiet.returncode == 0 and quiet.stderr == ""
        # full (why), profiles, no model yet, households: one summary, no bar
        assert len(quiet.stdout.strip().splitlines()) == 4 and "households:" in quiet.stdout
        shown = run_cli("resolve", "--full", "--progress", data_dir=data_dir)
        assert shown.returncode == 0
        for step in ("reading the graph", "planning profiles", "writing profiles",
                     "refreshing facts"):  # fmt: skip
            assert step in shown.stderr, shown.stderr
        assert "it/s" in shown.stderr  # tqdm's rate
        rfm = run_cli("rfm", "--progress", data_dir=data_dir)
        assert rfm.returncode == 0 and "writing scores" in rfm.stderr
        out = tmp_path / "profiles.jsonl"
        exported = run_cli("export", "profiles", "--progress", "-o", str(out), data_dir=data_dir)
        assert exported.returncode == 0 and "exporting profiles" in exported.stderr
        quiet = run_cli("export", "profiles", "-o", str(out), data_dir=data_dir)
        assert quiet.returncode == 0 and quiet.stderr == ""
    finally:
        run_cli("store", "stop", data_dir=data_dir)
