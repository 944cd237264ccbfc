"""Lookup latency p50/p99: through the store contract and through HTTP (waitress in
this process; the production server, granian, is measured by bench/serving.py).

    python bench/lookup.py --persons 4000 --lookups 2000

Generates data, ingests and resolves it into a fresh embedded store, then looks
up random strong identifiers: first with ``GraphStore.identifier`` (the
single-key read behind every lookup), then the full profile read, then
``GET /v1/identifiers/{type}/{value}/profile`` over loopback HTTP against
waitress (8 threads) in this process, one request at a time.
"""

from __future__ import annotations

import random
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, percentile, publish, serve_in_thread, workspace

from app.resources import open_resources
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve


def timed(samples: list[float], func, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func(*args)
    samples.append((time.perf_counter() - started) * 1000)
    return result


def main() -> None:
    args = parse_args(__doc__, persons=4000, lookups=2000)
    _work, data, config = workspace(args.persons)
    with open_resources(config) as res:
        res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        resolve(res.store, res.registry)
        keys = list(res.store.assignments())
        rng = random.Random(1)
        sample = [rng.choice(keys) for _ in range(args.lookups)]
        for key in sample[:100]:  # warm-up
            res.store.identifier(key)
        key_ms: list[float] = []
        profile_ms: list[float] = []
        for key in sample:
            found = timed(key_ms, res.store.identifier, key)
            timed(
                profile_ms,
                lambda pid: res.store.profile(pid, weak_types=res.registry.weak_types),
                found.profile_id,
            )

        server, base, api_key = serve_in_thread(config, res)
        http_ms: list[float] = []
        for type_name, value in sample:
            url = f"{base}/v1/identifiers/{type_name}/{urllib.parse.quote(value, safe='')}/profile"
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                response.read()
            http_ms.append((time.perf_counter() - started) * 1000)
        server.close()
        stats = res.store.stats()
    rows = [
        ("store: identifier → profile_id (single-key read)", key_ms),
        ("store: full profile (members, evidence, activity, traits)", profile_ms),
        ("HTTP: GET /v1/identifiers/{type}/{value}/profile", http_ms),
    ]
    lines = [
        f"Command: `python bench/lookup.py --persons {args.persons} --lookups {args.lookups}`",
        "",
        f"Graph: {stats['Identifier']:,} identifiers, {stats['Event']:,} events, "
        f"{stats['Profile']:,} profiles; {args.lookups:,} random strong identifiers, "
        "one request at a time.",
        "",
        "| path | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {percentile(ms, 50):.2f} | {percentile(ms, 99):.2f} | {max(ms):.2f} |"
            for name, ms in rows
        ),
        "",
        f"Target: store lookups p99 under 5 ms — single-key read p99 "
        f"**{percentile(key_ms, 99):.2f} ms**.",
    ]
    publish("Lookup latency", lines, save=not args.no_record)


if __name__ == "__main__":
    main()
