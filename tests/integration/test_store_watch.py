"""The embedded store started again when it dies (app.store_watch): a real store,
really killed, under the real ``idgraph serve`` too."""

from __future__ import annotations

import dataclasses
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

from app.store_watch import StoreWatch
from graph.store.embedded import EmbeddedServer, _alive
from tests.conftest import serving, wait_until


def _health(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_a_killed_store_is_started_again_and_a_stopped_one_left_stopped(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data")
    first = server.start()
    watch = StoreWatch(tmp_path / "data")
    assert not watch.check()  # running: nothing to do
    os.kill(first.pid, signal.SIGKILL)
    wait_until(lambda: server.exited() is not None, "the kill seen")
    assert watch.check() and watch.restarts == 1
    again = server.status()
    assert again is not None and again.pid != first.pid
    assert again.address.describe() == first.address.describe()  # the same socket
    assert server.stop()  # on purpose: its record goes with it
    assert not watch.check() and server.running() is None


def test_serve_starts_its_store_again_when_it_dies(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data) as live:
        server = EmbeddedServer(data)
        first = server.running()
        assert first is not None and _health(live.base) == 200
        os.kill(first.pid, signal.SIGKILL)
        wait_until(lambda: (now := server.status()) is not None and now.pid != first.pid,
                   "the store started again")  # fmt: skip
        wait_until(lambda: _health(live.base) == 200, "serve answering with its store again")
    assert "ended without being stopped; starting it again" in live.stderr
    assert "what it acknowledged is in its append-only file" in live.stderr
    assert "IDGRAPH_STORE_QUERY_THREADS=1 rules that out" in live.stderr  # the known crash


def test_a_server_that_ends_while_being_stopped_is_left_stopped(tmp_path: Path) -> None:
    """Between a stop's shutdown and the removal of the server's record, the record
    names an ended process, as after a crash: ``stop`` marks it first, and the watch
    leaves that server stopped."""
    server = EmbeddedServer(tmp_path / "data")
    first = server.start()
    watch = StoreWatch(tmp_path / "data")
    server._record(dataclasses.replace(first, stopping=True))  # as stop() does first
    os.kill(first.pid, signal.SIGKILL)  # the server ends
    wait_until(lambda: not _alive(first.pid), "the end seen")
    assert server.exited() is None
    assert not watch.check() and watch.restarts == 0
    assert server.running() is None
    server.state_file.unlink()  # the stop's last step
