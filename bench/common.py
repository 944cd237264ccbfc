"""Shared helpers of the benchmarks: a machine line, percentiles, the results file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def parse_args(
    description: str | None, persons: int, *, paths: tuple[str, ...] = (), **extra: int
) -> argparse.Namespace:
    """``--persons``, ``--no-record``, any extra integer options (name=default) and
    optional path options (``paths``: their names, default None)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--persons", type=int, default=persons)
    for name, default in extra.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    for name in paths:
        parser.add_argument(f"--{name}", type=Path, default=None)
    parser.add_argument("--no-record", action="store_true")
    return parser.parse_args()


def workspace(persons: int, prefix: str = "idgraph-bench-") -> tuple[Path, Any, Any]:
    """A fresh directory with generated data and a config whose data dir is inside it."""
    from app.config import Config
    from ml.synthetic import generate

    work = Path(tempfile.mkdtemp(prefix=prefix))
    data = generate(work / "data", persons=persons)
    return work, data, Config.load(env={}, overrides={"data_dir": work / "idgraph"})


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def publish(section: str, lines: list[str], *, save: bool) -> None:
    """Print the result and, unless told not to, write it to docs/benchmarks.md."""
    text = "\n".join(lines)
    print(text)
    if save:
        record(section, text)


def record(section: str, body: str, *, path: Path = RESULTS, title: str = "# Benchmarks") -> None:
    """Put this run at the top of ``## section`` in ``path`` (docs/benchmarks.md; the
    section is added when missing, the file with ``title``). The section's history
    stays: the run it replaces becomes an "Earlier run" subsection, and the dated
    ``###`` subsections below it are kept as they are."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lead = f"_Measured {stamp} on {machine()}._\n\n{body.strip()}"
    text = path.read_text() if path.exists() else f"{title}\n\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", re.S | re.M)
    found = pattern.search(text)
    if found is None:
        path.write_text(f"{text.rstrip()}\n\n## {section}\n\n{lead}\n")
        return
    old = found.group(1)
    first = re.search(r"^### ", old, re.M)
    earlier = (old[: first.start()] if first else old).strip()
    parts = [f"## {section}", lead]
    if earlier:
        when = re.search(r"_Measured (.*?) on ", earlier)
        parts.append(f"### Earlier run{': ' + when.group(1) if when else ''}\n\n{earlier}")
    if first:
        parts.append(old[first.start() :].strip())
    rest = text[found.end() :]
    section_text = "\n\n".join(parts) + ("\n\n" if rest else "\n")
    path.write_text(text[: found.start()] + section_text + rest)


def serve_in_thread(config: Any, res: Any, threads: int = 8) -> tuple[Any, str, str]:
    """The API on waitress in this process, with a fresh key of every scope and no rate
    limit (a benchmark's load is not abuse). Returns (server, base URL, key)."""
    import threading

    from waitress.server import BaseWSGIServer, create_server

    from app.access.keys import SCOPES, create_key
    from app.api import create_app

    key, _ = create_key(res.store, f"bench-{os.getpid()}-{id(res)}", SCOPES)
    app = create_app(config.replace(rate_limit_per_minute=0), resources=res)
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    assert isinstance(server, BaseWSGIServer)  # one host and port: one server
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.getsockname()[1]}", key


#: wrk's script for look-ups: random paths from a file, a bearer key, a JSON summary
LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local headers = {["Authorization"] = "Bearer %(key)s"}
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format('RESULT {"requests": %%d, "seconds": %%f, "p50_us": %%d, '
    .. '"p99_us": %%d, "errors": %%d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), bad))
end
"""


def wait_for(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


#: the ``idgraph`` command of this Python (benchmarks run the real command)
IDGRAPH = str(Path(sys.executable).with_name("idgraph"))


@contextmanager
def idgraph_serve(
    env: dict[str, str], processes: int, port: int
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``idgraph serve --processes N`` in its own processes, answering: its base URL
    and its process; stopped (SIGTERM) after the block, and the port closed.

    The port must be free first: a server of an earlier run whose processes are still
    stopping answered ``/health`` in this one's place (its own start failed to bind),
    then went away mid-run (two of ~30 runs of bench/realtime.py, 2026-12-05/06).
    A run during which the embedded store died fails when the block ends, though
    serve started the store again: its figures include the outage."""
    _port_closed(port)
    # the server's log in a file (a pipe nobody reads would stop it once full), its
    # tail printed when the run fails: what the server said about a failed request
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [IDGRAPH, "serve", "--port", str(port), "--processes", str(processes)],
            env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/health", server)
            yield base, server
            log.seek(0)
            if "ended without being stopped" in log.read():  # app.store_watch restarted it
                raise RuntimeError("the embedded store died during the run (idgraph serve "
                                   "started it again): its figures do not stand")  # fmt: skip
        except BaseException:
            log.seek(0)
            _print_tail("idgraph serve's log", log.read(), 40)
            raise
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            _port_closed(port)


def keep_store_logs(work: Path) -> None:
    """Copy the embedded stores' logs under ``work`` (about to be deleted) to the temp
    directory and print their tails: what the store said when a run failed (FalkorDB
    crashed under bench/realtime.py's load on 2026-12-06: a segfault in falkordb.so)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for n, log in enumerate(sorted(work.rglob("server.log"))):
        kept = Path(tempfile.gettempdir()) / f"idgraph-bench-store-{stamp}-{n}.log"
        kept.write_bytes(log.read_bytes())
        _print_tail(f"embedded store's log, kept as {kept}", kept.read_text(errors="replace"), 60)


def _print_tail(title: str, text: str, lines: int) -> None:
    """The last ``lines`` of a log on stderr, under ``title``."""
    print(f"{title}; last lines:", *text.splitlines()[-lines:], sep="\n  ", file=sys.stderr)


def _port_closed(port: int, timeout: float = 60) -> None:
    """Wait until nothing accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} still in use after {timeout:.0f} s")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it (Linux ``/proc``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the live processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def store_server_pids(data_dir: Path | None = None) -> list[int]:
    """The embedded store's server: the one this process started (``open_resources``),
    or the one serving ``data_dir`` (started by ``idgraph store start``)."""
    found = []
    candidates = process_tree(os.getpid())[1:] if data_dir is None else [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]  # fmt: skip
    for pid in candidates:
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"redis-server" in command and (
                data_dir is None or str(data_dir.resolve() / "store").encode() in command
            ):
                found.append(pid)
    return found


def cpu_during(run: Callable[[], T], **groups: list[int]) -> tuple[T, dict[str, float]]:
    """``run()``'s result and the CPU seconds each group of processes spent meanwhile."""
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    result = run()
    return result, {name: cpu_seconds(pids) - before[name] for name, pids in groups.items()}


def summary(command: list[str]) -> dict[str, Any]:
    """Run a load generator (wrk with a :data:`LUA` script, bench/rate.py): the JSON
    of its ``RESULT`` line."""
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def wrk(script: Path, base: str, *, connections: int, seconds: int) -> dict[str, Any]:
    """One wrk run (2 threads) with a :data:`LUA` script: its summary."""
    return summary(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                    "-s", str(script), base])  # fmt: skip
