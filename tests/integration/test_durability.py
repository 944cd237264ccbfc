"""What a 2xx on ``POST /v1/events`` promises, under kill -9 (README "Durability").

A real ``idgraph serve`` and the real embedded store, each in its own process; a
client posts a stream of batches and notes which were answered 2xx. Mid-stream the
server (or, separately, the store) is killed with SIGKILL and started again; the
client retries what was not answered. Afterwards every event answered 2xx is
stored exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.resources import open_resources
from graph.store.embedded import EmbeddedServer
from tests.conftest import TS, run_cli, start_serve
from tests.integration.test_cli import _free_port, _wait_for

BATCHES = 120
PER_BATCH = 25


def _batch(n: int) -> dict[str, Any]:
    return {
        "events": [
            {
                "event_id": f"d-{n}-{k}",
                "timestamp": TS,
                "source": "web",
                "type": "login",
                "identifiers": {"email": f"p{n}-{k}@example.com", "cookie_id": f"c-{n}-{k}"},
            }
            for k in range(PER_BATCH)
        ]
    }


class Poster(threading.Thread):
    """Posts batches in order, retrying each until it is answered 2xx (or time is up)."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.acked: set[str] = set()
        self.failures = 0
        self.posted = 0
        self.stop_at = time.monotonic() + 180

    def run(self) -> None:
        for n in range(BATCHES):
            body = json.dumps(_batch(n)).encode()
            while time.monotonic() < self.stop_at:
                request = urllib.request.Request(
                    self.url, data=body, method="POST",
                    headers={"Content-Type": "application/json",
                             "Authorization": f"Bearer {self.key}"},
                )  # fmt: skip
                try:
                    # up to 30 s: a request waits that long for the real-time update
                    # lock a killed server may have held (freed after 20 s)
                    with urllib.request.urlopen(request, timeout=45) as response:
                        if 200 <= response.status < 300:
                            self.acked.update(e["event_id"] for e in _batch(n)["events"])
                            self.posted += 1
                            break
                except (urllib.error.URLError, OSError):
                    self.failures += 1
                    time.sleep(0.1)


def _start_server(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return start_serve(data_dir, port)


def _wait_posted(poster: Poster, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while poster.posted < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    assert poster.posted >= at_least, "the stream did not get going"


def _stored_exactly_once(data_dir: Path, acked: set[str]) -> None:
    config = Config.load(env={}, overrides={"data_dir": data_dir})
    with open_resources(config) as res:
        rows = res.store._read("existing_events", {"ids": sorted(acked)})
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "an event is stored twice"
    missing = acked - set(ids)
    assert not missing, f"{len(missing)} events answered 2xx are not stored"


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["server", "store"])
def test_every_acknowledged_event_survives_kill_9(tmp_path: Path, victim: str) -> None:
    data_dir = tmp_path / "data"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    key = run_cli("keys", "create", "--name", "stream", "--scope", "ingest",
                  data_dir=data_dir).stdout.strip().splitlines()[-1]  # fmt: skip
    port = _free_port()
    server = _start_server(data_dir, port)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", server, timeout=60)
        poster = Poster(f"http://127.0.0.1:{port}/v1/events", key)
        poster.start()
        _wait_posted(poster, 20)
        if victim == "server":
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
            server = _start_server(data_dir, port)
        else:
            status = EmbeddedServer(data_dir).status()
            assert status is not None
            os.kill(status.pid, signal.SIGKILL)
            time.sleep(1.0)  # posts fail meanwhile (503) and are retried by the client
            assert run_cli("store", "start", data_dir=data_dir).returncode == 0
            restarted = EmbeddedServer(data_dir).status()
            assert restarted is not None and restarted.pid != status.pid
        poster.join(timeout=200)
        assert not poster.is_alive()
        assert poster.posted == BATCHES, f"only {poster.posted} batches were answered 2xx"
        if victim == "server":  # its connections broke (the store's clients may ride it out)
            assert poster.failures > 0, "the kill did not interrupt the stream"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    _stored_exactly_once(data_dir, poster.acked)
    # and again after a clean stop and start of the store (the append-only file replayed)
    assert run_cli("store", "stop", data_dir=data_dir).returncode == 0
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    try:
        _stored_exactly_once(data_dir, poster.acked)
    finally:
        run_cli("store", "stop", data_dir=data_dir)
