"""Real-time updates: from a POST's response to the look-up that shows the merge.

    python bench/realtime.py --persons 2000 --probes 200

A fresh embedded store gets generated data (ingested and resolved), then the
API runs on waitress. A background client posts a steady load (batches of
--load-batch generated events as fast as they are answered); meanwhile a probe
posts an event that ties two existing profiles together (a new e-mail seen with
both a fresh user_id and a fresh loyalty card, each already its own profile),
and from the moment the POST answers, polls the look-up of the loyalty card
until its profile holds the user_id. Reported: that delay (p50/p99), the
POST latency of the probe, and the load sustained meanwhile.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, publish, serve_in_thread

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--load-batch", type=int, default=100)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-bench-"))
    data = generate(work / "data", persons=args.persons)
    load = generate(work / "load", persons=args.persons, seed=99)
    load_lines = [event for line in load.events_path.read_text().splitlines()
                  if (event := _event(line)) is not None]  # fmt: skip
    config = Config.load(env={}, overrides={"data_dir": work / "idgraph"})
    with open_resources(config) as res:
        res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        resolve(res.store, res.registry, res.resolve_settings())
        server, base, KEY["value"] = serve_in_thread(config, res)

        stop = threading.Event()
        loaded = {"events": 0, "posts": 0}

        def steady_load() -> None:
            position = 0
            while not stop.is_set() and position < len(load_lines):
                batch = load_lines[position : position + args.load_batch]
                position += args.load_batch
                status, _ = call(f"{base}/v1/events", {"events": batch})
                assert status == 200
                loaded["events"] += len(batch)
                loaded["posts"] += 1

        loader = threading.Thread(target=steady_load, daemon=True)
        started = time.perf_counter()
        loader.start()
        post_ms: list[float] = []
        visible_ms: list[float] = []
        for n in range(args.probes):
            user, card = f"bench-u{n}", f"BENCH-L{n}"
            call(f"{base}/v1/events", {"events": [
                probe_event(f"p{n}a", user_id=user),
                probe_event(f"p{n}b", loyalty_id=card),
            ]})  # fmt: skip
            _, before = call(f"{base}/v1/identifiers/loyalty_id/{card}/profile")
            _, target = call(f"{base}/v1/identifiers/user_id/{user}/profile")
            assert before["profile"]["profile_id"] != target["profile"]["profile_id"]
            sent = time.perf_counter()
            merging = probe_event(
                f"p{n}m", loyalty_id=card, email=f"bench{n}@example.org", user_id=user
            )
            status, _ = call(f"{base}/v1/events", {"events": [merging]})
            answered = time.perf_counter()
            assert status == 200
            while True:
                _, now = call(f"{base}/v1/identifiers/loyalty_id/{card}/profile")
                members = {(i["type"], i["value"]) for i in now["profile"]["identifiers"]}
                if ("user_id", user) in members:
                    break
                if time.perf_counter() - answered > 30:
                    raise AssertionError("merge not visible after 30 s")
            visible_ms.append((time.perf_counter() - answered) * 1000)
            post_ms.append((answered - sent) * 1000)
        elapsed = time.perf_counter() - started
        stop.set()
        loader.join()
        server.close()
    total_ms = [a + b for a, b in zip(post_ms, visible_ms, strict=True)]
    lines = [
        f"Command: `python bench/realtime.py --persons {args.persons} --probes {args.probes} "
        f"--load-batch {args.load_batch}`",
        "",
        f"Store preloaded with {args.persons:,} generated persons; during the probes a client "
        f"posted {loaded['events']:,} other events in {loaded['posts']:,} requests "
        f"({loaded['events'] / elapsed:,.0f} events/s).",
        "",
        "| measure | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        f"| POST of the merging event (ingest + real-time update) | {percentile(post_ms, 50):.1f} "
        f"| {percentile(post_ms, 99):.1f} | {max(post_ms):.1f} |",
        f"| POST response -> look-up shows the merged profile | {percentile(visible_ms, 50):.1f} "
        f"| {percentile(visible_ms, 99):.1f} | {max(visible_ms):.1f} |",
        f"| POST sent -> merge visible (sum) | {percentile(total_ms, 50):.1f} "
        f"| {percentile(total_ms, 99):.1f} | {max(total_ms):.1f} |",
        "",
        "Target: p99 under one second under a steady ingest load.",
    ]
    publish("Real-time updates", lines, save=not args.no_record)


if __name__ == "__main__":
    main()
