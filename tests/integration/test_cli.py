"""The ``idgraph`` console script, run as a user runs it (subprocesses, real files)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IDGRAPH, run_cli


def store_processes(data_dir: Path) -> list[int]:
    """PIDs of live redis-server processes serving ``data_dir``."""
    pids = []
    needle = str(data_dir.resolve()).encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            status = (proc / "status").read_text()
        except OSError:
            continue
        if b"redis-server" in cmdline and needle in cmdline and "zombie" not in status:
            pids.append(int(proc.name))
    return pids


def worker_processes(data_dir: Path) -> list[int]:
    """PIDs of live ``idgraph worker`` processes the demo started for ``data_dir`` —
    not the processes a worker forks itself (rq's scheduler, a job's work horse),
    which carry the same command line."""
    pids: dict[int, int] = {}  # pid -> parent pid
    needle = f"IDGRAPH_DATA_DIR={data_dir}".encode()
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes() if b"worker" in cmdline else b""
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"from app.cli import main" in cmdline and needle in environ.split(b"\0"):
            pids[int(proc.name)] = parent
    return sorted(pid for pid, parent in pids.items() if parent not in pids)


def test_generate_ingest_resolve_lookup_export(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    gen = run_cli(
        "generate", "--persons", "120", "--output", str(tmp_path / "gen"), data_dir=data_dir
    )
    assert gen.returncode == 0, gen.stderr
    manifest = json.loads((tmp_path / "gen" / "manifest.json").read_text())["expected"]

    ingest = run_cli("ingest", str(tmp_path / "gen" / "events.jsonl"), data_dir=data_dir)
    assert ingest.returncode == 0, ingest.stderr
    assert f"{manifest['accepted']} accepted" in ingest.stdout
    assert f"{manifest['duplicates']} duplicates" in ingest.stdout
    assert f"{manifest['rejected']} rejected" in ingest.stdout
    assert "rejects written to" in ingest.stdout
    assert store_processes(data_dir) == [], "ingest left the embedded store running"

    pending = run_cli(
        "export", "profiles", "--output", str(tmp_path / "p.jsonl"), data_dir=data_dir
    )
    assert pending.returncode == 1 and "run `idgraph resolve` first" in pending.stderr

    resolved = run_cli("resolve", data_dir=data_dir)
    assert resolved.returncode == 0, resolved.stderr
    assert "profiles from" in resolved.stdout

    export = run_cli("export", "profiles", "--output", str(tmp_path / "p.jsonl"), data_dir=data_dir)
    assert export.returncode == 0, export.stderr
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    email = next(i["value"] for line in lines for i in line["identifiers"] if i["type"] == "email")

    lookup = run_cli("lookup", "email", f"  {email.upper()} ", data_dir=data_dir)
    assert lookup.returncode == 0, lookup.stderr
    profile = json.loads(lookup.stdout)["profile"]
    expected_line = next(
        line for line in lines if {"type": "email", "value": email} in line["identifiers"]
    )
    assert profile["profile_id"] == expected_line["profile_id"]

    missing = run_cli("lookup", "email", "nobody@nowhere.org", data_dir=data_dir)
    assert missing.returncode == 3 and "not found" in missing.stderr
    invalid = run_cli("lookup", "phone", "12", data_dir=data_dir)
    assert (
        invalid.returncode == 1 and "error:" in invalid.stderr and "Traceback" not in invalid.stderr
    )

    replay = run_cli("ingest", str(tmp_path / "gen" / "events.jsonl"), data_dir=data_dir)
    assert " 0 accepted" in replay.stdout
    assert store_processes(data_dir) == []


def test_csv_ingest_and_unreadable_files(tmp_path: Path) -> None:
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(
        "event_id,timestamp,source,type,email,phone\n"
        "e1,2026-01-01T00:00:00Z,pos,purchase,a@x.com,(415) 555-0123\n"
        "e2,2026-01-01T00:00:00Z,pos,purchase,n/a,\n"
    )
    ok = run_cli("ingest", str(csv_path), data_dir=tmp_path / "d")
    assert ok.returncode == 0, ok.stderr
    assert "1 accepted" in ok.stdout and "1 rejected" in ok.stdout
    missing = run_cli("ingest", str(tmp_path / "nope.jsonl"), data_dir=tmp_path / "d")
    assert missing.returncode != 0 and "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = run_cli("ingest", str(tmp_path / "x.txt"), data_dir=tmp_path / "d")
    assert unknown.returncode != 0 and "--format" in unknown.stderr


def test_the_store_syncs_and_runs_queries_as_configured(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    settings = {"IDGRAPH_STORE_FSYNC": "always", "IDGRAPH_STORE_QUERY_THREADS": "1"}
    assert run_cli("store", "start", data_dir=data_dir, env=settings).returncode == 0
    try:
        status = run_cli("store", "status", data_dir=data_dir)
        assert status.returncode == 0 and "fsync always" in status.stdout
        assert "query threads 1" in status.stdout  # read back from the server
    finally:
        assert run_cli("store", "stop", data_dir=data_dir).returncode == 0
    wrong = run_cli("store", "start", data_dir=data_dir, env={"IDGRAPH_STORE_FSYNC": "never"})
    assert wrong.returncode != 0 and "store_fsync 'never'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    wrong = run_cli("store", "start", data_dir=data_dir,
                    env={"IDGRAPH_STORE_QUERY_THREADS": "-1"})  # fmt: skip
    assert wrong.returncode != 0 and "store_query_threads" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_store_start_status_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    assert run_cli("store", "status", data_dir=data_dir).returncode == 3
    started = run_cli("store", "start", data_dir=data_dir)
    assert started.returncode == 0 and "running" in started.stdout
    try:
        status = run_cli("store", "status", data_dir=data_dir)
        assert status.returncode == 0 and "fsync everysec" in status.stdout
        assert re.search(r"query threads \d+", status.stdout)  # FalkorDB's default
        pid = store_processes(data_dir)
        assert len(pid) == 1
        # commands use the running store and leave it running
        assert run_cli("store", "init", data_dir=data_dir).returncode == 0
        assert store_processes(data_dir) == pid
    finally:
        stopped = run_cli("store", "stop", data_dir=data_dir)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert store_processes(data_dir) == []


def test_bad_configuration_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("resolve", data_dir=tmp_path, env={"IDGRAPH_BATCH_SIZE": "lots"})
    assert result.returncode == 2 and "batch_size" in result.stderr


def test_unreachable_neo4j_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("resolve", data_dir=tmp_path, env={"IDGRAPH_GRAPH_URL": "bolt://127.0.0.1:9"})
    assert result.returncode == 4, result.stderr
    assert "Neo4j at bolt://127.0.0.1:9 is unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    assert store_processes(tmp_path) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[str], timeout: float = 30) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.communicate()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()  # type: ignore[no-any-return]
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.parametrize("command", [["serve"], ["demo", "--persons", "60"]])
def test_serve_answers_over_http_and_stops_cleanly(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "d"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env["IDGRAPH_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [IDGRAPH, *command, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = ""
    try:
        health = json.loads(_wait_for(f"http://127.0.0.1:{port}/health", process, timeout=120))
        assert health["status"] == "ok"
        spec = json.loads(_wait_for(f"http://127.0.0.1:{port}/openapi.json", process))
        assert "/v1/events" in spec["paths"]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/profiles/none")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
        assert info.value.code == 401  # no key (tests/integration/test_access_cli.py)
        assert json.loads(info.value.read())["code"] == 401
        assert len(store_processes(data_dir)) == 1
        if command[0] == "demo":
            assert len(worker_processes(data_dir)) == 1
            banner = _demo_export_through_its_worker(process, port)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=60)
    out = banner + out
    assert store_processes(data_dir) == [], "serve left the embedded store running"
    assert worker_processes(data_dir) == [], "the demo left its worker running"
    assert f"http://127.0.0.1:{port}/" in out
    if command[0] == "demo":
        assert f"console: http://127.0.0.1:{port}/" in out
        assert "accepted" in out and "try:" in out and "/v1/identifiers/email/" in out
        assert "purchasers scored" in out and "/v1/segments/seg_" in out
        assert f"IDGRAPH_GRAPH_NAME=idgraph_demo {IDGRAPH} lookup email" in out
        assert "API key for this demo" in out and "Authorization: Bearer idg_" in out


def _demo_export_through_its_worker(process: subprocess.Popen[str], port: int) -> str:
    """Read the demo's banner (its key and a segment), export that segment through the
    API and wait for the demo's own worker to finish it; returns what was read."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("console:"):
        line = process.stdout.readline()
        assert line, "the demo ended before printing the console's address"
        lines.append(line)
    banner = "".join(lines)
    key = re.search(r"Bearer (idg_[A-Za-z0-9_-]+)", banner)
    segment = re.search(r"/v1/segments/(seg_[0-9a-f]+)/members", banner)
    assert key and segment, banner
    auth = {"Authorization": f"Bearer {key.group(1)}", "Content-Type": "application/json"}
    base = f"http://127.0.0.1:{port}"
    body = json.dumps({"segment_id": segment.group(1), "format": "csv"}).encode()
    request = urllib.request.Request(f"{base}/v1/exports", data=body, headers=auth)
    with urllib.request.urlopen(request, timeout=10) as response:
        export_id = json.loads(response.read())["export_id"]
    deadline = time.monotonic() + 60
    status: dict[str, Any] = {}
    while time.monotonic() < deadline and status.get("status") != "finished":
        time.sleep(0.3)
        poll = urllib.request.Request(f"{base}/v1/exports/{export_id}", headers=auth)
        with urllib.request.urlopen(poll, timeout=10) as response:
            status = json.loads(response.read())
    assert status.get("status") == "finished", status
    return banner


def test_integrity_commands(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    gen = tmp_path / "gen"
    assert (
        run_cli("generate", "--persons", "150", "--output", str(gen), data_dir=data_dir).returncode
        == 0
    )
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        assert run_cli("ingest", str(gen / "events.jsonl"), data_dir=data_dir).returncode == 0
        resolved = run_cli("resolve", data_dir=data_dir)
        assert "links refused" in resolved.stdout and "quarantined" in resolved.stdout

        evaluation = run_cli(
            "evaluate", "--truth", str(gen / "truth.csv"), "--json", data_dir=data_dir
        )
        assert evaluation.returncode == 0, evaluation.stderr
        results = json.loads(evaluation.stdout)
        quality = results["idgraph profiles"]
        assert quality["over_merged_profiles"] == 0 and quality["bcubed_precision"] == 1.0
        assert set(results) == {
            "idgraph profiles",
            "deterministic only (baseline)",
            "naive IP linking (baseline)",
        }
        assert results["naive IP linking (baseline)"]["bcubed_precision"] < 0.9
        table = run_cli("evaluate", "--truth", str(gen / "truth.csv"), data_dir=data_dir)
        assert "bcubed_recall" in table.stdout and "naive IP linking (baseline)" in table.stdout

        listed = run_cli("quarantine", "list", data_dir=data_dir)
        rows = [row.split("\t") for row in listed.stdout.splitlines()]
        assert rows and all(r[2].startswith("degree ") and r[3] == "quarantined" for r in rows)
        assert "device_id" in {r[0] for r in rows}  # family tablets

        export = run_cli(
            "export", "profiles", "--output", str(tmp_path / "p.jsonl"), data_dir=data_dir
        )
        assert export.returncode == 0
        line = next(
            json.loads(raw)
            for raw in (tmp_path / "p.jsonl").read_text().splitlines()
            if {"user_id", "email"} <= {i["type"] for i in json.loads(raw)["identifiers"]}
        )
        email = next(i["value"] for i in line["identifiers"] if i["type"] == "email")
        explained = json.loads(run_cli("explain", "email", email, data_dir=data_dir).stdout)
        assert explained["profile_id"] == line["profile_id"]
        assert explained["anchor"]["type"] == "user_id"

        override = run_cli("quarantine", "set", "force", "email", email, data_dir=data_dir)
        assert override.returncode == 0 and "next `idgraph resolve`" in override.stdout

        erased = run_cli("erase", "profile", line["profile_id"], data_dir=data_dir)
        assert erased.returncode == 0, erased.stderr
        assert line["profile_id"] in json.loads(erased.stdout)["profiles_deleted"]
        gone = run_cli("lookup", "email", email, data_dir=data_dir)
        assert gone.returncode == 3
        again = run_cli("erase", "profile", line["profile_id"], data_dir=data_dir)
        assert again.returncode == 3 and "Traceback" not in again.stderr
    finally:
        run_cli("store", "stop", data_dir=data_dir)
    assert store_processes(data_dir) == []


def test_serve_with_several_processes_shares_one_port_and_stops_them_all(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "d"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    created = run_cli("keys", "create", "--name", "desk", "--scope", "read", data_dir=data_dir)
    key = created.stdout.strip().splitlines()[-1]
    assert run_cli("store", "stop", data_dir=data_dir).returncode == 0
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env["IDGRAPH_DATA_DIR"] = str(data_dir)
    command = [IDGRAPH, "serve", "--port", str(port), "--processes", "2", "--threads", "3"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", process, timeout=60)
        servers = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                   and _parent_of(p) == process.pid}  # fmt: skip
        assert len(servers) >= 2  # the two server processes (children of serve)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/profiles/prf_none",
                                         headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        for _ in range(20):  # every process answers with its own connections
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(request, timeout=5)
            assert info.value.code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert "2 processes of 3 threads" in out
    assert "Traceback" not in err, err
    assert all(not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid) for pid in servers)
    assert store_processes(data_dir) == [], "serve left the embedded store running"


def test_serve_stopped_while_its_processes_start_stops(tmp_path: Path) -> None:
    """A stop that arrives while the server processes start ends them too (it was lost
    in a process copied from granian's main one, and `serve` hung; now at worst the
    kill timeout of 5 s ends a process that missed it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env["IDGRAPH_DATA_DIR"] = str(tmp_path / "d")
    assert run_cli("store", "start", data_dir=tmp_path / "d").returncode == 0
    try:
        for delay in (0.4, 0.7, 1.0):
            process = subprocess.Popen(
                [IDGRAPH, "serve", "--port", str(_free_port()), "--processes", "2"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True)  # fmt: skip
            time.sleep(delay)
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its server processes too
                process.communicate()
                pytest.fail(f"serve did not stop when told to {delay} s after it started")
    finally:
        run_cli("store", "stop", data_dir=tmp_path / "d")


def test_the_server_environment_never_reads_as_a_request(tmp_path: Path) -> None:
    """granian starts each request's environ from the process environment: a variable
    named like a header must not read as one the caller sent (nor settings sit there)."""
    from tests.conftest import serving

    data_dir = tmp_path / "d"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        env = {"HTTP_X_REQUEST_ID": "from-the-server-env"}
        with serving(data_dir, env=env) as live:
            answer = urllib.request.urlopen(f"{live.base}/health", timeout=10)
            echoed = answer.headers["X-Request-ID"]
            answer.close()
        assert echoed != "from-the-server-env" and len(echoed) == 32  # a fresh ID
    finally:
        run_cli("store", "stop", data_dir=data_dir)


def _parent_of(proc: Path) -> int:
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "zombie"
