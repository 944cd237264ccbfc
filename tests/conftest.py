"""Shared fixtures: one real embedded FalkorDB for the session, a fresh graph per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.resources import Resources, connect
from graph.ingest.identifiers import Registry, default_registry
from graph.store.address import ServerAddress
from graph.store.embedded import EmbeddedServer
from graph.store.falkordb_store import FalkorDBStore
from ml.synthetic import GeneratedData, generate

TS = "2026-03-10T08:48:34Z"


def login_event(event_id: str, **identifiers: str) -> dict[str, Any]:
    """A minimal valid event for API tests: ``login_event("e1", email="a@x.com")``."""
    return {
        "event_id": event_id,
        "timestamp": TS,
        "source": "web",
        "type": "login",
        "identifiers": identifiers,
    }


IDGRAPH = shutil.which("idgraph", path=str(Path(sys.executable).parent)) or "idgraph"


def wait_until(condition: Any, what: str) -> None:
    """Synchronization, not timing: wait until ``condition()`` (10 s at most)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.001)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerAddress]:
    """A real embedded FalkorDB (also the tests' Redis), stopped at the end."""
    embedded = EmbeddedServer(tmp_path_factory.mktemp("server"))
    status = embedded.start()
    yield status.address
    embedded.stop()


@pytest.fixture
def config(server: ServerAddress, tmp_path: Path) -> Config:
    """Settings pointing at the session server, with a graph of this test's own."""
    url = (
        f"unix://{server.unix_socket}" if server.unix_socket else f"redis://127.0.0.1:{server.port}"
    )
    return Config.load(
        env={},
        overrides={
            "data_dir": tmp_path / "data",
            "graph_url": url,
            "redis_url": url,
            "graph_name": "test_" + uuid.uuid4().hex[:12],
            "batch_size": 500,
        },
    )


@pytest.fixture
def resources(config: Config) -> Iterator[Resources]:
    res = connect(config)
    yield res
    assert isinstance(res.store, FalkorDBStore)
    res.store.drop()
    res.close()


@pytest.fixture
def store(resources: Resources) -> FalkorDBStore:
    assert isinstance(resources.store, FalkorDBStore)
    return resources.store


@pytest.fixture
def registry() -> Registry:
    return default_registry()


@pytest.fixture
def app(config: Config, resources: Resources):  # type: ignore[no-untyped-def]
    from app.api import create_app

    return create_app(config, resources=resources, test_config={"TESTING": True})


def with_key(test_client: Any, resources: Resources) -> Any:
    """``test_client`` sending a new key with every scope."""
    from app.access.keys import SCOPES, create_key

    key, _ = create_key(resources.store, "test-" + uuid.uuid4().hex[:10], SCOPES)
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return test_client


@pytest.fixture
def admin_key(resources: Resources) -> str:
    """A key with every scope, named ``test-all`` (the API tests' default caller)."""
    from app.access.keys import SCOPES, create_key

    return create_key(resources.store, "test-all", SCOPES)[0]


@pytest.fixture
def client(app, admin_key):  # type: ignore[no-untyped-def]
    """A test client that sends ``admin_key``; ``anonymous_client`` sends none."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_key}"
    return test_client


@pytest.fixture
def anonymous_client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    """Generated events for 300 persons (about 9k lines), shared read-only."""
    return generate(tmp_path_factory.mktemp("small"), persons=300, seed=11)


def store_env(config: Config, **extra: str) -> dict[str, str]:
    """The environment that points an ``idgraph`` command at ``config``'s store and
    graph (the tests' shared server), plus ``extra`` settings."""
    return {
        "IDGRAPH_GRAPH_URL": str(config.graph_url),
        "IDGRAPH_REDIS_URL": str(config.redis_url),
        "IDGRAPH_GRAPH_NAME": config.graph_name,
        **extra,
    }


def run_cli(
    *args: str,
    data_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``idgraph`` console script with its own data dir."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    full_env.update({"IDGRAPH_DATA_DIR": str(data_dir), **(env or {})})
    return subprocess.run(
        [IDGRAPH, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        input=input_text,
        check=False,
    )


def start_serve(
    data_dir: Path, port: int, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The real ``idgraph serve`` on ``port`` (stdout and stderr piped, as text)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    full_env.update({"IDGRAPH_DATA_DIR": str(data_dir), **(env or {})})
    return subprocess.Popen(
        [IDGRAPH, "serve", "--port", str(port), *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class LiveServer:
    """A running ``idgraph serve``: its URL; once stopped, what it logged."""

    base: str
    stderr: str = ""


@contextlib.contextmanager
def serving(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """The real ``idgraph serve`` on a free port, stopped with SIGTERM afterwards; a
    traceback in its log fails the test."""
    from tests.integration.test_cli import _free_port, _wait_for

    port = _free_port()
    server = start_serve(data_dir, port, env=env)
    live = LiveServer(f"http://127.0.0.1:{port}")
    try:
        _wait_for(f"{live.base}/health", server, timeout=60)
        yield live
    finally:
        server.send_signal(signal.SIGTERM)
        _out, live.stderr = server.communicate(timeout=60)
    assert "Traceback" not in live.stderr, live.stderr[-3000:]
