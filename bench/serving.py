"""Look-ups at saturation: one server process next to several, cold and ready, by wrk.

    python bench/serving.py --persons 4000 --seconds 15 --max-processes 3

Generates data, ingests and resolves it into a fresh embedded store (or, with
``--data-dir DIR``, uses the resolved store of that idgraph data directory: its embedded
store must be running, ``idgraph store start``; ready documents are expired there and
a key is added), creates a key,
then for P = 1 .. --max-processes starts the real ``idgraph serve --processes P``
(8 threads each, no rate limit) and loads ``GET /v1/identifiers/{type}/{value}/profile``
with Debian's ``wrk`` (a separate, efficient process: 2 threads, 32 connections,
random strong identifiers from a Lua script) for --seconds. Reported per P: requests
a second, latency p50/p99 as wrk measured them, non-2xx answers, and the CPU time a
request cost the server's processes and the embedded store's server (from /proc:
steadier than requests a second on a shared machine). Twice: *cold*, every ready
profile document stale before the run (each look-up's first read of a profile
renders it and keeps it ready: graph/store/serving.py), and *ready*, after every
profile was looked up once. Then, for P = 2 .. --max-processes, ready documents at a
constant --rate look-ups a second (default 500) from ``bench/rate.py``, an open-loop
generator in its own process: latency counted from when each request was due, so
a stalled server is not hidden by a generator that waits for it (wrk is
closed-loop: it measures saturation, not latency at a given rate).
Baselines in the same run: the raw store's ceiling for the reads a look-up makes,
from 2 Python processes in a closed loop, no HTTP and no Flask: cold
(``GraphStore.ready_profile`` then the full ``GraphStore.profile``) and ready
(``ready_profile`` alone, its document decoded).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    LUA,
    cpu_during,
    idgraph_serve,
    parse_args,
    process_tree,
    publish,
    store_server_pids,
    summary,
    workspace,
    wrk,
)

from app.access.keys import SCOPES, create_key
from app.config import Config
from app.profiles import lookup_identifier
from app.resources import connect, open_resources
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve


def _raw_reader(
    config: Config, keys: list[tuple[str, str]], seconds: float, ready: bool, out: Any
) -> None:
    res = connect(config)
    rng = random.Random(os.getpid())
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        found = res.store.ready_profile(Identifier(*rng.choice(keys)))
        if ready:
            json.loads(found.document or "{}")
        elif found.profile_id:
            res.store.profile(found.profile_id, weak_types=res.registry.weak_types)
        done += 1
    out.put(done)
    res.close()


def raw_ceiling(
    config: Config, keys: list[tuple[str, str]], seconds: float, *, ready: bool
) -> float:
    results: Any = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(
        target=_raw_reader, args=(config, keys, seconds, ready, results))
        for _ in range(2)]  # fmt: skip
    for w in workers:
        w.start()
    total = sum(results.get(timeout=seconds + 60) for _ in workers)
    for w in workers:
        w.join()
    return total / seconds


def _load(env: dict[str, str], processes: int, script: Path, seconds: int) -> dict[str, Any]:
    """``idgraph serve --processes N`` under wrk: wrk's summary (its Lua ``done``) and
    the CPU seconds the server's processes and the store's server spent in it."""
    with idgraph_serve(env, processes, 18000 + processes) as (base, server):
        wrk(script, base, connections=32, seconds=3)  # warm-up
        return _measured(
            server,
            lambda: wrk(script, base, connections=32, seconds=seconds),
            Path(env["IDGRAPH_DATA_DIR"]),
        )


def _measured(server: subprocess.Popen[str], run: Callable[[], dict[str, Any]],
              data_dir: Path) -> dict[str, Any]:  # fmt: skip
    """``run()``'s result with ``server_cpu`` and ``store_cpu``: CPU seconds spent
    meanwhile by the server's processes and by the embedded store's server."""
    result, cpu = cpu_during(
        run, server=process_tree(server.pid), store=store_server_pids(data_dir)
    )
    return {**result, "server_cpu": cpu["server"], "store_cpu": cpu["store"]}


def _at_rate(env: dict[str, str], processes: int, paths: Path, key: str, script: Path,
             rate: int, seconds: int) -> dict[str, Any]:  # fmt: skip
    """``idgraph serve --processes N`` under bench/rate.py: look-ups at a constant
    rate, latency from when each was due (no coordinated omission)."""
    with idgraph_serve(env, processes, 18010 + processes) as (base, server):
        wrk(script, base, connections=32, seconds=3)  # warm-up
        command = [sys.executable, str(Path(__file__).with_name("rate.py")), "--base", base,
                   "--paths", str(paths), "--key", key, "--rate", str(rate),
                   "--seconds", str(seconds)]  # fmt: skip
        return _measured(server, lambda: summary(command), Path(env["IDGRAPH_DATA_DIR"]))


def _cpu(result: dict[str, Any], requests: int) -> str:
    return (f"{1000 * result['server_cpu'] / max(requests, 1):.2f} | "
            f"{1000 * result['store_cpu'] / max(requests, 1):.2f}")  # fmt: skip


def _row(documents: str, processes: int, result: dict[str, Any]) -> str:
    rate = result["requests"] / result["seconds"]
    return (f"| {documents} | `idgraph serve --processes {processes}` | {rate:,.0f} | "
            f"{result['p50_us'] / 1000:.1f} | {result['p99_us'] / 1000:.1f} | "
            f"{result['errors']} | {_cpu(result, result['requests'])} |")  # fmt: skip


def _rate_row(processes: int, result: dict[str, Any]) -> str:
    return (f"| `idgraph serve --processes {processes}` | {result['rate']:,.0f} | "
            f"{result['answered']:,} | {result['p50_us'] / 1000:.1f} | "
            f"{result['p99_us'] / 1000:.1f} | {result['p999_us'] / 1000:.1f} | "
            f"{result['max_us'] / 1000:.1f} | {result['errors']} | "
            f"{result['send_lag_p99_us'] / 1000:.1f} | "
            f"{_cpu(result, result['answered'])} |")  # fmt: skip


def main() -> None:
    args = parse_args(__doc__, persons=4000, seconds=15, rate=500, paths=("data-dir",),
                      **{"max-processes": 3})  # fmt: skip
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if args.data_dir:  # a store already ingested and resolved (e.g. bench/resolve.py's)
        work = Path(tempfile.mkdtemp(prefix="idgraph-bench-serving-"))
        config = Config.load(env={}, overrides={"data_dir": args.data_dir.resolve()})
    else:
        work, data, config = workspace(args.persons, prefix="idgraph-bench-serving-")
    rows: list[str] = []
    rate_rows: list[str] = []
    with open_resources(config) as res:
        if args.data_dir:
            stats = res.store.stats()
            identifiers, profiles = stats["Identifier"], stats["Profile"]
        else:
            res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
            resolved = resolve(res.store, res.registry, res.resolve_settings())
            identifiers, profiles = resolved.identifiers, resolved.profiles
        key, _ = create_key(res.store, f"bench-serving-{int(time.time())}", SCOPES)
        keys = [(i.type, i.value) for i in res.store.assignments()]
        random.Random(3).shuffle(keys)
        paths = work / "paths.txt"
        paths.write_text("".join(
            f"/v1/identifiers/{t}/{urllib.parse.quote(v, safe='')}/profile\n"
            for t, v in keys[:20000]))  # fmt: skip
        script = work / "lookup.lua"
        script.write_text(LUA % {"paths": paths, "key": key, "seed": 7})
        res.store.expire_ready_profiles()
        cold = raw_ceiling(config, keys[:20000], args.seconds, ready=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
        env.update(IDGRAPH_DATA_DIR=str(config.data_dir), IDGRAPH_RATE_LIMIT_PER_MINUTE="0",
                   IDGRAPH_LOG_LEVEL="ERROR")  # fmt: skip
        for processes in range(1, args.max_processes + 1):
            res.store.expire_ready_profiles()
            rows.append(_row("cold", processes, _load(env, processes, script, args.seconds)))
        for t, v in keys[:20000]:  # every profile looked up once: documents ready
            lookup_identifier(res.store, res.registry, t, v)
        ready = raw_ceiling(config, keys[:20000], args.seconds, ready=True)
        for processes in range(1, args.max_processes + 1):
            rows.append(_row("ready", processes, _load(env, processes, script, args.seconds)))
        for processes in range(2, args.max_processes + 1):
            rate_rows.append(_rate_row(processes, _at_rate(
                env, processes, paths, key, script, args.rate, args.seconds)))  # fmt: skip
    lines = [
        "Command: `python bench/serving.py "
        + (f"--data-dir {args.data_dir}" if args.data_dir else f"--persons {args.persons}")
        + f" --seconds {args.seconds} --max-processes {args.max_processes}` "
        f"({identifiers:,} identifiers, {profiles:,} profiles). "
        f"Load: `wrk -t2 -c32 -d{args.seconds}s` on the same "
        "2 cores, random strong identifiers, `GET /v1/identifiers/{type}/{value}/profile`.",
        "",
        "Baselines, the raw store's ceiling for the same reads (2 Python processes, no HTTP):"
        f" cold (identifier and its document, then the full profile) **{cold:,.0f} "
        f"look-ups/s**; ready (identifier and its document) **{ready:,.0f} look-ups/s**.",
        "",
        "| documents | server | requests/s | p50 ms | p99 ms | errors "
        "| server CPU ms a request | store CPU ms a request |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"At a constant {args.rate} look-ups a second (ready documents; `bench/rate.py`, open "
        "loop: latency from when each request was due, 64 keep-alive connections; the "
        "generator's own lateness in *send lag*):",
        "",
        "| server | offered/s | answered | p50 ms | p99 ms | p99.9 ms | max ms | errors "
        "| send lag p99 ms | server CPU ms a request | store CPU ms a request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rate_rows,
    ]
    publish("Look-ups at saturation: server processes", lines, save=not args.no_record)
    shutil.rmtree(work, ignore_errors=True)  # the generated data and its store (or the paths)


if __name__ == "__main__":
    main()
