"""The embedded FalkorDB server: start, persistence, stop, stale state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import redis

from graph.errors import StoreUnavailable
from graph.ingest.batches import build_batch
from graph.ingest.events import Event, Identifier
from graph.store.embedded import EmbeddedServer, running_server
from graph.store.falkordb_store import FalkorDBStore


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    )


def test_data_survives_a_restart(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    status = server.start()
    assert status.address.unix_socket and status.address.unix_socket.startswith(
        str(tmp_path.resolve())
    )
    store = FalkorDBStore(status.address, "g")
    store.ensure_schema()
    event = Event(
        "e1", 1000, "web", "view", (Identifier("email", "a@x.com"), Identifier("ip", "1.2.3.4"))
    )
    store.write_observations(build_batch([event]))
    store.close()
    assert server.stop()
    assert not _alive(status.pid)
    assert (tmp_path / "store" / "appendonlydir").is_dir()

    again = server.start()
    assert again.pid != status.pid
    store = FalkorDBStore(again.address, "g")
    assert store.stats()["Event"] == 1
    assert store.existing_event_ids(["e1", "e2"]) == {"e1"}
    store.close()
    server.stop()


def test_the_server_runs_as_configured_for_safety(tmp_path: Path) -> None:
    """What the server must run with, read back from the running server: no query
    telemetry (it would keep customers' values past an erasure), an append-only file
    synced every second, no RDB snapshots (the append-only file is the one copy an
    erasure rewrites), and matrices resized once a million new nodes (a resize while a
    read traverses can crash FalkorDB 4.16: bench/falkordb_race.py)."""
    server = EmbeddedServer(tmp_path)
    status = server.start()
    try:
        with redis.Redis(**status.address.redis_kwargs()) as client:
            pairs = client.execute_command("GRAPH.CONFIG", "GET", "*")
            settings = {name.decode(): value for name, value in pairs}
            assert settings["CMD_INFO"] in (0, False)
            assert settings["NODE_CREATION_BUFFER"] == 1 << 20
            assert client.config_get("appendonly") == {"appendonly": "yes"}
            assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
            assert client.config_get("save") == {"save": ""}
            assert client.config_get("crash-log-enabled") == {"crash-log-enabled": "no"}
    finally:
        server.stop()


def test_a_crash_leaves_no_report_and_an_old_report_is_cut(tmp_path: Path) -> None:
    """Redis's crash report lists the queries running with their parameters (FalkorDB's
    part of it even with ``hide-user-data-from-log``): customers' values in a log an
    erasure never reaches. The server writes none; one an older idgraph's server left
    is cut from the log at the next start, the rest of the log kept."""
    server = EmbeddedServer(tmp_path)
    status = server.start()
    os.kill(status.pid, signal.SIGSEGV)  # what FalkorDB's crash raises
    deadline = time.monotonic() + 15
    while server.running() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.running() is None
    assert "BUG REPORT" not in server.log_file.read_text()
    old_report = (
        "1:M 07 Dec 2026 00:45:40.000 * Ready to accept connections unix\n"
        "=== REDIS BUG REPORT START: Cut & paste starting from here ===\n"
        'graph_command:GRAPH.QUERY CYPHER `keys`=[["email","ann@example.com"]] ...\n'
        "=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n"
        "1:M 07 Dec 2026 00:46:00.000 * after the report\n"
    )
    server.log_file.write_text(old_report)
    server.start()
    try:
        log = server.log_file.read_text()
        assert "ann@example.com" not in log and "BUG REPORT" not in log
        assert "Ready to accept connections unix" in log and "after the report" in log
        assert "[a crash report was removed" in log
    finally:
        server.stop()


def test_start_is_idempotent_and_status_reports(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    assert server.status() is None
    first = server.start()
    assert server.start().pid == first.pid
    assert server.status() is not None
    assert server.stop() is True
    assert server.stop() is False
    assert server.status() is None
    assert EmbeddedServer(tmp_path / "never-used").stop() is False


def test_stale_state_file_is_ignored(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    server.dir.mkdir(parents=True)
    server.state_file.write_text(
        json.dumps({"pid": 999999, "unix_socket": "/nope", "started_at": 0})
    )
    assert server.status() is None
    assert not server.state_file.exists()
    status = server.start()
    assert status.pid != 999999
    server.stop()


def test_running_server_stops_only_what_it_started(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    with running_server(tmp_path) as address:
        pid = server.status().pid  # type: ignore[union-attr]
        assert address.unix_socket
    assert not _alive(pid)
    kept = server.start()
    with running_server(tmp_path):
        pass
    assert server.status() is not None and server.status().pid == kept.pid  # type: ignore[union-attr]
    server.stop()


def test_long_paths_fall_back_to_loopback_tcp(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    server = EmbeddedServer(deep)
    status = server.start()
    try:
        assert status.address.unix_socket is None
        assert status.address.host == "127.0.0.1" and status.address.port > 0
        assert server.status() is not None
    finally:
        server.stop()


def test_a_server_that_cannot_start_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.errors import StoreUnavailable

    server = EmbeddedServer(tmp_path)
    monkeypatch.setattr(server, "_command", lambda address: ["false"])
    with pytest.raises(StoreUnavailable, match="exited at start"):
        server.start()


def test_a_server_with_more_data_may_take_longer_to_start(tmp_path: Path) -> None:
    """A server loads its data before it answers anything (a million identifiers took
    27 s, beyond the 15 s a start was allowed): the wait grows with the data."""
    from graph.store.embedded import LOAD_SECONDS_PER_BYTE, START_TIMEOUT

    server = EmbeddedServer(tmp_path)
    assert server.start_timeout() == START_TIMEOUT
    data = server.dir / "appendonlydir"
    data.mkdir(parents=True)
    with (data / "appendonly.aof.1.base.rdb").open("wb") as f:
        f.truncate(50_000_000)
    (data / "appendonly.aof.1.incr.aof").write_bytes(b"x" * 1000)
    expected = START_TIMEOUT + 50_001_000 * LOAD_SECONDS_PER_BYTE
    assert server.start_timeout() == pytest.approx(expected)
    assert server.start_timeout() > START_TIMEOUT + 9


def _files_holding(root: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and needle in p.read_bytes())  # fmt: skip


def test_forgetting_deleted_data_rewrites_the_log_and_the_snapshot(tmp_path: Path) -> None:
    """What a query deleted stays in the append-only log, and in an RDB snapshot taken
    before, until they are rewritten: ``forget_deleted`` rewrites both (a server that
    keeps snapshots: an external one may), and a rewrite another client started first
    is no excuse to skip one's own. The slow logs (Redis's, FalkorDB's), which keep
    queries with their parameters in memory, are emptied."""
    server = EmbeddedServer(tmp_path)
    status = server.start()
    store = FalkorDBStore(status.address, "g")
    try:
        store.ensure_schema()
        store._db.connection.config_set("slowlog-log-slower-than", 0)  # every command
        store._db.connection.config_set("slowlog-max-len", 100_000)
        value = Identifier("email", "forget.me@example.com")
        event = Event("e1", 1000, "web", "view", (value, Identifier("ip", "1.2.3.4")))
        store.write_observations(build_batch([event]))
        client = store._db.connection
        client.config_set("save", "3600 1")
        client.bgsave()  # a snapshot holding the value
        root, needle = tmp_path / "store", value.value.encode()
        store.delete_events(["e1"])
        store.delete_identifiers([value])
        while client.info("persistence")["rdb_bgsave_in_progress"]:
            pass
        assert _files_holding(root, needle) == ["appendonlydir/appendonly.aof.1.incr.aof",
                                                "dump.rdb"]  # fmt: skip
        assert needle in repr(client.slowlog_get(100_000)).encode()
        rewrites = client.info("persistence")["aof_rewrites"]
        client.bgrewriteaof()  # another client's rewrite, started before the call
        answer = store.forget_deleted()
        assert needle not in repr(client.slowlog_get(100_000)).encode()
        assert needle not in repr(client.execute_command("GRAPH.SLOWLOG", "g")).encode()
        assert answer["done"] and answer["rewritten"] == ["append-only file", "RDB snapshot"]
        assert client.info("persistence")["aof_rewrites"] == rewrites + 2
        assert _files_holding(root, needle) == []
        assert store.stats()["Event"] == 0
    finally:
        store.close()
        server.stop()


def _servers_of(directory: Path) -> list[int]:
    """The redis-server processes whose command line names ``directory``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                line = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"redis-server" in line and str(directory.resolve()).encode() in line:
                found.append(int(proc.name))
    return found


def test_a_busy_server_is_waited_for_never_started_beside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that does not answer (stopped here with SIGSTOP, as one busy writing a
    large reply or loading its data) is not taken for dead: a second one on the same
    files would take over the socket and append to the same log. ``start`` waits for
    it, and says so when it does not answer in time; ``running_server`` uses it and
    leaves it running."""
    monkeypatch.setattr("graph.store.embedded.START_TIMEOUT", 1.0)
    server = EmbeddedServer(tmp_path)
    first = server.start()
    os.kill(first.pid, signal.SIGSTOP)
    try:
        assert server.status() is None  # it does not answer ...
        assert (running := server.running()) is not None and running.pid == first.pid  # runs
        with pytest.raises(StoreUnavailable, match="not starting a second server"):
            EmbeddedServer(tmp_path).start()
        assert _servers_of(tmp_path) == [first.pid]
        threading.Timer(0.5, os.kill, (first.pid, signal.SIGCONT)).start()
        os.kill(first.pid, signal.SIGSTOP)
        with running_server(tmp_path) as address:
            assert address.unix_socket == first.address.unix_socket
        assert _servers_of(tmp_path) == [first.pid]
        assert (status := server.status()) is not None and status.pid == first.pid
    finally:
        os.kill(first.pid, signal.SIGCONT)
        server.stop()
    assert _servers_of(tmp_path) == []


def test_a_server_that_does_not_answer_is_still_stopped(tmp_path: Path) -> None:
    """``stop`` took a server that did not answer within a second (busy) for stopped
    and left it running. Now it is sent SIGTERM (here held with SIGSTOP until 1.5 s
    later, when it handles it) and waited for; its record goes only with it."""
    server = EmbeddedServer(tmp_path)
    first = server.start()
    redis.Redis(unix_socket_path=first.address.unix_socket).set("kept", "yes")
    os.kill(first.pid, signal.SIGSTOP)
    # resumed after stop's one-second ping has gone unanswered
    resume = threading.Timer(1.5, os.kill, (first.pid, signal.SIGCONT))
    resume.start()
    try:
        assert server.stop() is True
    finally:
        resume.join()
        with contextlib.suppress(ProcessLookupError):
            os.kill(first.pid, signal.SIGCONT)
    assert _servers_of(tmp_path) == []
    assert server.running() is None and not server.state_file.exists()
    again = server.start()  # shut down as on SHUTDOWN: what it held is there
    try:
        assert again.pid != first.pid
        assert redis.Redis(unix_socket_path=again.address.unix_socket).get("kept") == b"yes"
    finally:
        server.stop()
