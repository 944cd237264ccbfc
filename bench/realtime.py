"""Real-time updates: from a POST's response to the look-up that shows the merge.

    python bench/realtime.py --persons 2000 --probes 200 --rate 1000 --processes 2

A fresh embedded store gets generated data (ingested and resolved), then the real
``idgraph serve --processes N`` runs against it. A load generator in its own
processes (--load-clients, each with its own connection) offers a steady --rate of
generated events a second in POSTs of --load-batch events, on a schedule (a client
that falls behind sends at once; what was achieved is reported next to what was
offered). Meanwhile a probe posts an event that ties two existing profiles together
(a new e-mail seen with both a fresh user_id and a fresh loyalty card, each already
its own profile), and from the moment the POST answers, polls the look-up of the
loyalty card until its profile holds the user_id. Reported: that delay (p50/p99),
the POST latency of the probe, and the load sustained meanwhile. Before the load
starts, ``--idle-probes`` probes measure the same without it: the baseline of the same
run (this shared machine's speed swings by 2-3x within an hour).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    cpu_during,
    idgraph_serve,
    keep_store_logs,
    percentile,
    process_tree,
    publish,
    store_server_pids,
)

from app.access.keys import SCOPES, create_key
from app.config import Config
from app.resources import open_resources
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve
from ml.synthetic import generate

TS = "2026-11-01T12:00:00Z"


def probe_event(event_id: str, **identifiers: str) -> dict[str, Any]:
    return {"event_id": event_id, "timestamp": TS, "source": "pos", "type": "purchase",
            "identifiers": identifiers}  # fmt: skip


KEY = {"value": ""}


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY['value']}"}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _event(line: str) -> dict[str, Any] | None:
    """A generated line as an event; None for the malformed lines the generator
    writes on purpose (they would make the load's requests fail as a whole)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _load_client(base: str, lines: list[dict[str, Any]], batch: int, rate: float,
                 phase: float, stop: Any, results: Any) -> None:  # fmt: skip
    """POST ``batch`` events every ``batch / rate`` seconds, starting ``phase`` of an
    interval late (clients spread evenly), at once when behind, until ``stop``; puts
    what it sent."""
    sent = {"events": 0, "posts": 0, "errors": 0, "ran_out": 0}
    interval = batch / rate
    due = time.perf_counter() + phase * interval
    position = 0
    while not stop.is_set() and position < len(lines):
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due += interval
        chunk = lines[position : position + batch]
        position += batch
        status, _ = call(f"{base}/v1/events", {"events": chunk})
        if stop.is_set():
            break  # answered after the measured window
        sent["posts"] += 1
        if status == 200:
            sent["events"] += len(chunk)
        else:
            sent["errors"] += 1
    sent["ran_out"] = int(position >= len(lines) and not stop.is_set())
    results.put(sent)


def _profile_id(answer: tuple[int, dict[str, Any]], probe: str) -> str:
    status, body = answer
    if "profile" not in body:
        raise AssertionError(f"probe {probe}: the look-up answered {status}: {body}")
    return str(body["profile"]["profile_id"])


def _probes(base: str, probes: int, name: str = "") -> tuple[list[float], list[float], list[int]]:
    """(POST ms, POST answered -> merge visible ms, profiles whose facts its update
    refreshed) of each probe; ``name`` sets these probes' values apart from others'."""
    post_ms: list[float] = []
    visible_ms: list[float] = []
    refreshed: list[int] = []
    for k in range(probes):
        n = f"{name}{k}"
        user, card = f"bench-u{n}", f"BENCH-L{n}"
        status, answer = call(f"{base}/v1/events", {"events": [
            probe_event(f"p{n}a", user_id=user),
            probe_event(f"p{n}b", loyalty_id=card),
        ]})  # fmt: skip
        if status != 200 or answer.get("profiles") is None:
            raise AssertionError(f"probe {n}: its first POST answered {status}: {answer}")
        # the first POST's update report, in the failure of a look-up that misses it
        seen = f"{n} (its POST's update: {answer.get('profiles')})"
        before = _profile_id(call(f"{base}/v1/identifiers/loyalty_id/{card}/profile"), seen)
        target = _profile_id(call(f"{base}/v1/identifiers/user_id/{user}/profile"), seen)
        assert before != target
        sent = time.perf_counter()
        merging = probe_event(f"p{n}m", loyalty_id=card, email=f"bench{n}@example.org",
                              user_id=user)  # fmt: skip
        status, answer = call(f"{base}/v1/events", {"events": [merging]})
        answered = time.perf_counter()
        if status != 200 or answer.get("profiles") is None:
            raise AssertionError(f"probe {n}: its merging POST answered {status}: {answer}")
        refreshed.append(int((answer.get("profiles") or {}).get("facts_refreshed") or 0))
        while True:
            status, now = call(f"{base}/v1/identifiers/loyalty_id/{card}/profile")
            if "profile" not in now:
                raise AssertionError(f"probe {n}: the look-up answered {status}: {now}")
            members = {(i["type"], i["value"]) for i in now["profile"]["identifiers"]}
            if ("user_id", user) in members:
                break
            if time.perf_counter() - answered > 30:
                raise AssertionError("merge not visible after 30 s")
        visible_ms.append((time.perf_counter() - answered) * 1000)
        post_ms.append((answered - sent) * 1000)
    return post_ms, visible_ms, refreshed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--load-batch", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1000, help="Events a second offered.")
    parser.add_argument("--load-clients", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2, help="idgraph serve --processes")
    parser.add_argument("--server-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="An IDGRAPH_* variable for the server (repeatable), e.g. "
                             "IDGRAPH_BATCH_SIZE=25.")  # fmt: skip
    parser.add_argument("--idle-probes", type=int, default=100,
                        help="Probes before the load starts: the same measure without "
                             "load, in the same run (the machine's own speed then).")  # fmt: skip
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-bench-"))
    try:
        lines = _run(args, work)
    except BaseException:
        keep_store_logs(work)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the generated data and its store
    publish("Real-time updates", lines, save=not args.no_record)


def _run(args: argparse.Namespace, work: Path) -> list[str]:
    data = generate(work / "data", persons=args.persons)
    # enough load for the probes (about 29 lines a person; a probe takes ~30 ms at the
    # median, ~100 ms at the slowest runs'): 4 persons per event/s offered and 500 probes
    load_persons = max(args.persons, int(args.rate * 4 * max(1.0, args.probes / 500)))
    load = generate(work / "load", persons=load_persons, seed=99)
    load_lines = [event for line in load.events_path.read_text().splitlines()
                  if (event := _event(line)) is not None]  # fmt: skip
    config = Config.load(env={}, overrides={"data_dir": work / "idgraph"})
    with open_resources(config) as res:
        res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        resolve(res.store, res.registry, res.resolve_settings())
        KEY["value"], _ = create_key(res.store, "bench-realtime", SCOPES)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
        env.update(IDGRAPH_DATA_DIR=str(config.data_dir), IDGRAPH_RATE_LIMIT_PER_MINUTE="0",
                   IDGRAPH_LOG_LEVEL="WARNING")  # fmt: skip
        env.update(_settings(args.server_setting))
        with idgraph_serve(env, args.processes, 18200) as (base, server):
            idle_post, idle_visible, _ = _probes(base, args.idle_probes, name="idle-")
            context = multiprocessing.get_context("fork")
            stop, results = context.Event(), context.Queue()
            clients = [
                context.Process(target=_load_client, args=(
                    base, load_lines[n :: args.load_clients], args.load_batch,
                    args.rate / args.load_clients, n / args.load_clients, stop, results))
                for n in range(args.load_clients)
            ]  # fmt: skip
            started = time.perf_counter()
            for client in clients:
                client.start()
            # the store's and the server processes' CPU during the load (what the
            # events cost: steadier than the latencies on a shared machine)
            (post_ms, visible_ms, refreshed), cpu = cpu_during(
                lambda: _probes(base, args.probes), store=store_server_pids(config.data_dir),
                server=process_tree(server.pid))  # fmt: skip
            elapsed = time.perf_counter() - started
            stop.set()
            loaded = {"events": 0, "posts": 0, "errors": 0, "ran_out": 0}
            for _ in clients:
                for name, count in results.get(timeout=120).items():
                    loaded[name] += count
            for client in clients:
                client.join()
    total_ms = [a + b for a, b in zip(post_ms, visible_ms, strict=True)]
    idle_ms = [a + b for a, b in zip(idle_post, idle_visible, strict=True)]
    lines = [
        f"Command: `python bench/realtime.py --persons {args.persons} --probes {args.probes} "
        f"--load-batch {args.load_batch} --rate {args.rate:g} --load-clients "
        f"{args.load_clients} --processes {args.processes}"
        + "".join(f" --server-setting {item}" for item in args.server_setting)
        + "` (`idgraph serve --processes "
        f"{args.processes}`; the load from {args.load_clients} client processes)",
        "",
        f"Store preloaded with {args.persons:,} generated persons; during the probes the "
        f"load clients posted {loaded['events']:,} other events in {loaded['posts']:,} "
        f"requests: **{loaded['events'] / elapsed:,.0f} events/s sustained of "
        f"{args.rate:,.0f} offered** ({loaded['errors']} failed requests"
        + (
            f"; {loaded['ran_out']} of {args.load_clients} load clients ran out of events "
            "before the probes ended: the load was lower at the end"
            if loaded["ran_out"]
            else ""
        )
        + ").",
        "",
        _cpu_line(cpu, loaded["events"] + 3 * args.probes, elapsed),
        "",
        "| measure | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        f"| POST of the merging event (ingest + real-time update) | {percentile(post_ms, 50):.1f} "
        f"| {percentile(post_ms, 99):.1f} | {max(post_ms):.1f} |",
        f"| POST response -> look-up shows the merged profile | {percentile(visible_ms, 50):.1f} "
        f"| {percentile(visible_ms, 99):.1f} | {max(visible_ms):.1f} |",
        f"| POST sent -> merge visible (sum) | {percentile(total_ms, 50):.1f} "
        f"| {percentile(total_ms, 99):.1f} | {max(total_ms):.1f} |",
        *_idle_row(idle_ms),
        "",
        _grouped(post_ms, refreshed),
        "",
        "Goal (issue #15): POST sent -> merge visible p99 <= 100 ms under a sustained "
        "1,000 events/s.",
    ]
    return lines


def _cpu_line(cpu: dict[str, float], events: int, elapsed: float) -> str:
    """The CPU the store and the server processes used while the load ran."""
    parts = [
        f"{name} {seconds:.1f} s ({seconds / elapsed:.2f} cores, "
        f"{1000 * seconds / max(events, 1):.2f} s a 1,000 events)"
        for name, seconds in cpu.items()
    ]
    return f"CPU during the load ({elapsed:.0f} s, {events:,} events): " + "; ".join(parts) + "."


def _idle_row(idle_ms: list[float]) -> list[str]:
    """The table's row of the probes run before the load (none: no row)."""
    if not idle_ms:
        return []
    return [
        f"| the same without load ({len(idle_ms)} probes before the load started) "
        f"| {percentile(idle_ms, 50):.1f} | {percentile(idle_ms, 99):.1f} | {max(idle_ms):.1f} |"
    ]


def _settings(given: list[str]) -> dict[str, str]:
    settings = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("IDGRAPH_"):
            raise SystemExit(f"--server-setting {item!r}: expected IDGRAPH_NAME=VALUE")
        settings[name] = value
    return settings


def _grouped(post_ms: list[float], refreshed: list[int]) -> str:
    """How many probes' updates also ran a load POST's (their answer's update refreshed
    the facts of more profiles than a probe's own three), and what their POST took."""
    bulk = [ms for ms, n in zip(post_ms, refreshed, strict=True) if n > 3]
    alone = [ms for ms, n in zip(post_ms, refreshed, strict=True) if n <= 3]
    return (
        f"Probes whose update also ran a load POST's (facts of more than 3 profiles "
        f"refreshed): {len(bulk)} of {len(post_ms)}"
        + (f", their POST p50 {percentile(bulk, 50):.1f} ms" if bulk else "")
        + (f"; the others' p50 {percentile(alone, 50):.1f} ms" if alone else "")
        + "."
    )


if __name__ == "__main__":
    main()
