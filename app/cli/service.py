"""Running idgraph: ``serve``, ``worker``, ``jobs`` and the ``demo``."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from app.cli.ingest import print_report
from app.cli.support import (
    audit_change,
)
from app.cli.support import config_of as _config
from app.cli.support import reports_errors as _errors
from app.config import Config
from app.resources import Resources, open_resources
from app.store_watch import StoreWatch
from graph.errors import InputError
from graph.ingest.ingester import RejectFile
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve as resolve_profiles

logger = logging.getLogger(__name__)


#: the demo writes to a graph of its own, so it never clears a user's data
DEMO_GRAPH = "idgraph_demo"


#: segments the demo defines, to have something to browse and export
DEMO_SEGMENTS = (
    ("Champions and loyal, with an e-mail", {"and": [
        {"field": "rfm.group", "op": "in", "value": ["Champions", "Loyal"]}, {"has": "email"}]}),
    ("Bought at the till at least twice", {
        "events": {"type": "purchase", "source": "pos"}, "op": ">=", "value": 2}),
)  # fmt: skip


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.pass_context
@_errors
def worker(ctx: click.Context, burst: bool) -> None:
    """Run an rq worker for idgraph's background jobs (resolve, exports)."""
    from rq import Queue, Worker

    from app.jobs import QUEUE_NAME

    with open_resources(_config(ctx)) as res:
        queue = Queue(QUEUE_NAME, connection=res.redis)
        click.echo(f"worker on queue {QUEUE_NAME!r} ({res.store.describe()})")
        Worker([queue], connection=res.redis).work(burst=burst, with_scheduler=True)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@click.pass_context
@_errors
def jobs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recent background jobs (queued, running, waiting to retry, finished, failed)."""
    from app.jobs import recent_jobs

    with open_resources(_config(ctx)) as res:
        found = recent_jobs(res.redis, limit=limit)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no jobs")
    for job in found:
        progress = job["progress"] or {}
        done = f" {progress.get('rows', 0)} rows" if progress else ""
        error = f"  error: {job['error']}" if job["error"] else ""
        click.echo(
            f"{job['id']}  {job['kind']:<8} {job['status']:<9} {job['enqueued_at'] or '-'}"
            f"{done}  {job['description']}{error}"
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Threads running requests in each server process [default: 2 x cores + 1, at most 8].",
)
@click.option(
    "--processes",
    default=1,
    type=click.IntRange(min=1),
    show_default=True,
    help="Server processes sharing the port (one per core serves most: Python runs "
    "one thread at a time per process).",
)
@click.pass_context
@_errors
def serve(ctx: click.Context, host: str, port: int, threads: int | None, processes: int) -> None:
    """Serve the HTTP API and the console with a production WSGI server (granian)."""
    _serve(_config(ctx), host, port, threads or _default_threads(), processes)


def _default_threads() -> int:
    """Requests wait on the store about as long as they compute: a few threads a core."""
    return min(8, 2 * (os.cpu_count() or 1) + 1)


def _serve(config: Config, host: str, port: int, threads: int, processes: int = 1) -> None:
    with open_resources(config) as res:
        if config.admin_key_file:
            _import_admin_key(res, Path(config.admin_key_file))
        _refuse_open_without_keys(res, host)
        # the embedded store started again if it dies (app.store_watch)
        watch = (StoreWatch(config.data_dir, fsync=config.store_fsync,
                            query_threads=config.store_query_threads)
                 if config.uses_embedded_store else contextlib.nullcontext())  # fmt: skip
        with watch:
            _serve_processes(res.config, host, port, threads, processes)


def _import_admin_key(res: Resources, path: Path) -> None:
    """The deployment's admin key from a secret file (all scopes; idempotent)."""
    from app.access.keys import SCOPES, import_key

    try:
        key = path.read_text()
    except OSError as e:
        raise InputError(f"admin_key_file {path}: {e.strerror or e}") from e
    if import_key(res.store, "admin", key, SCOPES) is not None:
        audit_change(res, "keys import", "key:admin")
        click.echo("imported the admin key from admin_key_file")


def _refuse_open_without_keys(res: Resources, host: str) -> None:
    """Listening beyond this machine while no key exists would serve nobody safely."""
    import ipaddress

    from app.access.keys import status_of

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not any(status_of(k) == "active" for k in res.store.api_keys()):
        raise InputError(
            f"refusing to listen on {host}: no API key exists yet, so nobody could use the "
            "API. Create one first (`idgraph keys create --name NAME --scope read`), or "
            "serve on 127.0.0.1"
        )


def _announce(host: str, port: int, detail: str = "", banner: str = "") -> None:
    click.echo(f"{banner}idgraph API on http://{host}:{port}/  (docs: http://{host}:{port}/docs)"
               f"{detail}")  # fmt: skip
    click.echo(f"console: http://{host}:{port}/  (sign in with an API key)")
    click.echo("press Ctrl-C to stop")


def _serve_processes(
    config: Config, host: str, port: int, threads: int, processes: int, banner: str = ""
) -> None:
    """granian (HTTP in Rust, the WSGI app in ``threads`` threads a process): one
    listening socket shared by ``processes`` forked server processes, each with
    connections of its own (opened after the fork). This process keeps the embedded
    store, restarts a server process that dies, and stops them all when told to stop."""
    import socket

    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    try:  # a clear error now, not a failing server process later
        socket.create_server((host, port)).close()
    except OSError as e:
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    server = Server(
        "idgraph",  # a name only: the app comes from _server_app in each process
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=processes,
        blocking_threads=threads,
        backlog=2048,
        log_level=LogLevels.warning,
        log_access=False,  # an access log would hold identifier values in the paths
        respawn_failed_workers=True,
        # a server process still running this long after the stop is killed: granian
        # sends one SIGTERM, and one that arrives as the process starts can be lost
        workers_kill_timeout=5,
    )
    plural = "processes" if processes > 1 else "process"
    _announce(host, port, f", {processes} {plural} of {threads} threads", banner)
    sys.stdout.flush()
    main = os.getpid()
    server.serve(target_loader=functools.partial(_server_app, config, main), wrap_loader=False)


def _server_app(config: Config, main: int) -> Any:
    """The WSGI app of one server process (runs in the process, after the fork);
    ``main``: the process that forked it."""
    import signal

    from app.api import create_app
    from app.resources import connect

    # The fork copied the main process's handlers, which only note a stop for the main
    # process: a SIGTERM arriving while this process starts was lost and it served on
    # (`serve` stopped 0.5-1 s after it started hung). Until granian sets this
    # process's own handlers, a stop ends it; what is left of the window before this
    # line is covered by the kill timeout above.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _end_with(main)
    return _without_process_environment(create_app(config, resources=connect(config)))


def _end_with(main: int) -> None:
    """Have the kernel end this process when ``main`` ends, even by ``kill -9``: a
    server process left behind would hold the port and serve on, unsupervised
    (Linux; elsewhere a supervisor that stops the process group is needed)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != main:  # it ended before the line above
        os._exit(1)


#: prctl(2): the signal this process gets when the thread that forked it ends
_PR_SET_PDEATHSIG = 1

#: the CGI names a WSGI server sets from the request itself (PEP 3333)
_CGI_NAMES = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
    "REMOTE_PORT", "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "REQUEST_URI", "RAW_URI",
})  # fmt: skip


def _without_process_environment(app: Any) -> Any:
    """``app`` with the server process's environment variables taken out of each
    request's WSGI environ: granian starts every environ from a copy of
    ``os.environ``, so settings (a Neo4j password) would sit in every request, and a
    variable named like a header (``HTTP_PROXY``) would read as one the caller sent."""
    copied = frozenset(os.environ) - _CGI_NAMES  # those the request's own scope sets

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        for name in copied.intersection(environ):
            del environ[name]
        return app(environ, start_response)

    return wsgi


@click.command()
@click.option("--persons", type=click.IntRange(min=10), default=2000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--no-serve", is_flag=True, help="Stop after resolving (for scripts).")
@click.pass_context
@_errors
def demo(ctx: click.Context, persons: int, host: str, port: int, no_serve: bool) -> None:
    """Generate data, ingest it, resolve profiles and serve the API."""
    from ml.synthetic import generate as generate_data

    config = _config(ctx)
    config = config.replace(graph_name=DEMO_GRAPH)
    out = config.data_dir / "demo"
    click.echo(f"generating events for {persons} persons in {out} …")
    data = generate_data(out, persons=persons)
    with open_resources(config) as res:
        res.store.delete_all()
        started = time.perf_counter()
        report = res.ingester().ingest_records(
            read_records(data.events_path, "jsonl"),
            rejects=RejectFile(out / "rejects.jsonl", source=str(data.events_path)),
        )
        print_report(data.events_path, report)
        result = resolve_profiles(res.store, res.registry, res.resolve_settings())
        click.echo(
            f"resolved {result.profiles} profiles (largest {result.largest_profile}) "
            f"in {time.perf_counter() - started:.1f}s total"
        )
        from app.rfm import run_rfm
        from app.segments import count_members, create_segment

        summary = run_rfm(res)
        click.echo(f"RFM: {summary['purchasers']} purchasers scored")
        hints = []
        for name, rule in DEMO_SEGMENTS:
            segment = create_segment(res, {"name": name, "rule": rule})
            members = count_members(res, segment["segment_id"])["count"]
            click.echo(f"segment {segment['segment_id']} {name!r}: {members} profiles")
            hints.append(f"  <api>/v1/segments/{segment['segment_id']}/members")
        # the command as it was started (scripts/demo.sh runs .venv/bin/idgraph)
        command = sys.argv[0] if Path(sys.argv[0]).name == "idgraph" else "idgraph"
        for type_name in ("email", "phone", "user_id"):
            for value in res.store.sample_identifiers(type_name, 1):
                hints.append(f"  <api>/v1/identifiers/{type_name}/{value}/profile")
                hints.append(
                    f"  IDGRAPH_GRAPH_NAME={DEMO_GRAPH} {command} lookup {type_name} '{value}'"
                )
        from app.access.keys import SCOPES, create_key

        key, _ = create_key(res.store, "demo", SCOPES)
        banner = (
            f"API key for this demo (every scope; `idgraph keys list` shows it, never the "
            f"key): {key}\n"
            f"send it as the header  Authorization: Bearer {key}\n"
            f"e.g.  curl -H 'Authorization: Bearer {key}' "
            "<api>/v1/identifiers/…/profile\n"
            "try:\n" + "\n".join(hints) + "\n"
        )
        if no_serve:
            click.echo(banner)
            return
        banner += f"console: http://{host}:{port}/  — sign in with the key above\n"
        with _demo_worker(config):  # exports started in the console need a worker
            _serve_processes(res.config, host, port, _default_threads(), 1,
                             banner=banner.replace("<api>", f"http://{host}:{port}"))  # fmt: skip


@contextlib.contextmanager
def _demo_worker(config: Config) -> Iterator[None]:
    """An ``idgraph worker`` beside the demo's server, stopped with it."""
    import subprocess

    env = {**os.environ, "IDGRAPH_DATA_DIR": str(config.data_dir),
           "IDGRAPH_GRAPH_NAME": config.graph_name}  # fmt: skip
    command = [sys.executable, "-c", "from app.cli import main; main()", "worker"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
