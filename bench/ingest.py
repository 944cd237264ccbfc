"""Ingest throughput next to the raw store's own UNWIND … MERGE on the same work.

    python bench/ingest.py --persons 4000

Both runs use one embedded FalkorDB started for the benchmark, fresh graphs
with the same constraints. The baseline writes exactly the nodes and
relationships ingest writes (identifiers, events, SEEN_IN, OBSERVED_WITH),
from rows prepared before the clock starts, in the same batch size; ingest
runs from the JSONL file, parsing and normalizing included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record

from graph.embedded import EmbeddedServer
from graph.events import Event, parse_event
from graph.falkordb_store import FalkorDBStore
from graph.identifiers import default_registry
from graph.ingest import Ingester, build_batch
from graph.readers import read_records
from ml.synthetic import generate

RAW = {
    name: (Path(__file__).parent / "baseline_cypher" / f"raw_{name}.cypher").read_text()
    for name in ("identifiers", "events", "seen", "edges")
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-bench-"))
    data = generate(work / "data", persons=args.persons)
    registry = default_registry()
    events: list[Event] = []
    for rec in read_records(data.events_path, "jsonl"):
        result = parse_event(rec.raw, registry) if rec.raw is not None else None
        if result and result.event:
            events.append(result.event)
    unique = list({e.event_id: e for e in events}.values())
    batches = [
        build_batch(unique[i : i + args.batch_size]) for i in range(0, len(unique), args.batch_size)
    ]
    server = EmbeddedServer(work / "store-data")
    status = server.start()
    try:
        raw = FalkorDBStore(status.address, "bench_raw")
        raw.ensure_schema()
        writes = sum(b.size for b in batches)
        started = time.perf_counter()
        for batch in batches:
            for name, rows in (
                ("identifiers", batch.identifiers),
                ("events", batch.events),
                ("seen", batch.seen),
                ("edges", batch.edges),
            ):
                raw._graph.query(RAW[name], {"rows": rows})
        raw_seconds = time.perf_counter() - started
        raw_stats = raw.stats()

        store = FalkorDBStore(status.address, "bench_ingest")
        store.ensure_schema()
        ingester = Ingester(store, registry, batch_size=args.batch_size)
        report = ingester.ingest_records(read_records(data.events_path, "jsonl"))
        stats = store.stats()
        for key in ("Identifier", "Event", "SEEN_IN", "OBSERVED_WITH"):
            assert stats[key] == raw_stats[key], (key, stats[key], raw_stats[key])
    finally:
        server.stop()
    raw_eps = len(unique) / raw_seconds
    ingest_eps = report.records / report.seconds
    lines = [
        "Command: `python bench/ingest.py "
        f"--persons {args.persons} --batch-size {args.batch_size}`",
        "",
        f"Data: {report.records:,} lines, {len(unique):,} distinct valid events, "
        f"{writes:,} node/relationship writes per run "
        f"({stats['Identifier']:,} identifiers, {stats['Event']:,} events, "
        f"{stats['SEEN_IN']:,} SEEN_IN, {stats['OBSERVED_WITH']:,} OBSERVED_WITH).",
        "",
        "| run | seconds | events/s | writes/s |",
        "|---|---:|---:|---:|",
        f"| raw store UNWIND … MERGE (baseline) | {raw_seconds:.1f} | {raw_eps:,.0f} "
        f"| {writes / raw_seconds:,.0f} |",
        f"| idgraph ingest (parse + normalize + dedupe + write) | {report.seconds:.1f} "
        f"| {ingest_eps:,.0f} | {writes / report.seconds:,.0f} |",
        "",
        f"Ingest reaches **{ingest_eps / raw_eps:.0%}** of the raw store's throughput "
        "(target: at least 50%).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record("Ingest throughput", text)


if __name__ == "__main__":
    main()
