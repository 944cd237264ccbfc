"""Ingest throughput next to the raw store's own UNWIND … MERGE on the same work.

    python bench/ingest.py --persons 4000

The baseline writes exactly the nodes and relationships ingest writes (identifiers,
events, SEEN_IN, OBSERVED_WITH), from rows prepared before the clock starts, in the
same batch size; ingest runs from the JSONL file, parsing and normalizing included.
Every run has an embedded FalkorDB of its own, started for it, with the same
constraints (one server holding the graphs of the earlier runs made the later ones
slower, unevenly: 10.8 to 16.5 s for the same baseline at 4,000 persons); the runs
are interleaved, each kind in turn first, second and last of a round. Besides
seconds, each run's CPU an event: this process (all its threads) and the store's
server — on a shared machine the steadier figure, and the one that says which side
costs what.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_during, publish, store_server_pids

from graph.ingest.batches import build_batch
from graph.ingest.events import Event, parse_event
from graph.ingest.identifiers import default_registry
from graph.ingest.ingester import Ingester
from graph.ingest.readers import read_records
from graph.store import ObservationBatch
from graph.store.embedded import EmbeddedServer
from graph.store.falkordb_params import params_header
from graph.store.falkordb_store import FalkorDBStore
from ml.synthetic import generate

QUERIES = Path(__file__).parent / "baseline_cypher"
#: keys only: the store's cheapest way to create these nodes and relationships
RAW = {
    name: (QUERIES / f"raw_{name}.cypher").read_text()
    for name in ("identifiers", "events", "seen", "edges")
}
#: the same rows with the same properties ingest stores (event facts, edge counters)
FULL = {
    **RAW,
    "events": (QUERIES / "full_events.cypher").read_text(),
    "edges": (QUERIES / "full_edges.cypher").read_text(),
}


def baseline_rows(batch: ObservationBatch, full: bool) -> list[tuple[str, list[dict[str, Any]]]]:
    """The rows of one batch for the baseline queries (prepared before timing)."""
    if full:  # events carry their identifiers' keys, as in ingest
        return [
            ("identifiers", batch.identifiers),
            ("events", batch.events),
            ("edges", batch.edges),
        ]
    seen = [
        {"event_id": e["event_id"], "type": t, "value": v}
        for e in batch.events
        for t, v in e["seen"]
    ]
    return [
        ("identifiers", batch.identifiers),
        ("events", batch.events),
        ("seen", seen),
        ("edges", batch.edges),
    ]


def run_baseline(store: FalkorDBStore, queries: dict[str, str], work: list) -> float:  # type: ignore[type-arg]
    started = time.perf_counter()
    for rows_by_query in work:
        for name, rows in rows_by_query:
            # the parameter text as idgraph's adapter writes it (graph.store.falkordb_params)
            store._graph.query(params_header({"rows": rows}) + queries[name])
    return time.perf_counter() - started


def _cpu(runs: list[tuple[float, float]], events: int) -> str:
    """Median Python and store CPU of the runs, in microseconds an event."""
    python = statistics.median(p for p, _ in runs) / events * 1e6
    store = statistics.median(s for _, s in runs) / events * 1e6
    return f"{python:,.0f} | {store:,.0f}"


def _run(
    label: str,
    directory: Path,
    data: Any,
    registry: Any,
    prepared: dict[str, list],
    args: Any,  # type: ignore[type-arg]
) -> tuple[float, dict[str, float], dict[str, int], Any]:
    """One run against a store server of its own (a fresh graph in a fresh server: a
    server holding the graphs of earlier runs made later runs slower, unevenly)."""
    server = EmbeddedServer(directory)
    status = server.start()
    try:
        # this process (all its threads: parsing, building, encoding parameters) and the store
        groups = {"python": [os.getpid()], "store": store_server_pids()}
        store = FalkorDBStore(status.address, f"bench_{label}")
        store.ensure_schema()
        report = None
        if label == "ingest":
            ingester = Ingester(store, registry, batch_size=args.batch_size)
            records = read_records(data.events_path, "jsonl")
            report, spent = cpu_during(partial(ingester.ingest_records, records), **groups)
            seconds_taken = report.seconds
        else:
            queries = RAW if label == "keys" else FULL
            seconds_taken, spent = cpu_during(
                partial(run_baseline, store, queries, prepared[label]), **groups
            )
        return seconds_taken, spent, store.stats(), report
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians reported")
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
    runs: dict[str, list[float]] = {"keys": [], "full": [], "ingest": []}
    # CPU seconds of each run (python, store): steadier than seconds on a shared machine
    cpu: dict[str, list[tuple[float, float]]] = {"keys": [], "full": [], "ingest": []}
    counts: dict[str, dict[str, int]] = {}
    writes = sum(b.size for b in batches)
    prepared = {
        label: [baseline_rows(b, full=label == "full") for b in batches]
        for label in ("keys", "full")
    }
    # the prepared rows (about a million objects) are the benchmark's, not ingest's:
    # keep the garbage collector from walking them during the ingest runs
    gc.collect()
    gc.freeze()
    labels = ["keys", "full", "ingest"]
    report: Any = None
    try:
        for attempt in range(args.repeat):
            # interleaved, each in turn first, second and last of a round
            for label in labels[attempt % 3 :] + labels[: attempt % 3]:
                seconds_taken, spent, counts[label], report_ = _run(
                    label, work / f"store-{label}-{attempt}", data, registry, prepared, args
                )
                report = report_ or report  # the ingest's (its line count)
                runs[label].append(seconds_taken)
                cpu[label].append((spent["python"], spent["store"]))
        for key in ("Identifier", "Event", "SEEN_IN", "OBSERVED_WITH"):
            assert counts["ingest"][key] == counts["full"][key], key
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = {label: statistics.median(values) for label, values in runs.items()}
    stats = counts["ingest"]
    ingest_eps = report.records / seconds["ingest"]
    keys_eps = len(unique) / seconds["keys"]
    full_eps = len(unique) / seconds["full"]
    lines = [
        "Command: `python bench/ingest.py "
        f"--persons {args.persons} --batch-size {args.batch_size} --repeat {args.repeat}`",
        "",
        f"Data: {report.records:,} lines, {len(unique):,} distinct valid events, "
        f"{writes:,} node/relationship writes per run "
        f"({stats['Identifier']:,} identifiers, {stats['Event']:,} events, "
        f"{stats['SEEN_IN']:,} SEEN_IN, {stats['OBSERVED_WITH']:,} OBSERVED_WITH).",
        "",
        "| run | seconds | events/s | writes/s | Python CPU µs an event | store CPU µs an event |",
        "|---|---:|---:|---:|---:|---:|",
        f"| raw store, keys only: UNWIND … MERGE | {seconds['keys']:.1f} | {keys_eps:,.0f} "
        f"| {writes / seconds['keys']:,.0f} | {_cpu(cpu['keys'], len(unique))} |",
        f"| raw store, same properties and query shape | {seconds['full']:.1f} "
        f"| {full_eps:,.0f} | {writes / seconds['full']:,.0f} | {_cpu(cpu['full'], len(unique))} |",
        f"| idgraph ingest from the file (parse, normalize, dedupe, write) "
        f"| {seconds['ingest']:.1f} | {ingest_eps:,.0f} | {writes / seconds['ingest']:,.0f} "
        f"| {_cpu(cpu['ingest'], len(unique))} |",
        "",
        f"Ingest reaches **{ingest_eps / full_eps:.0%}** of the raw store's throughput on the "
        f"same nodes, relationships and properties (goal: at least 90%), and "
        f"{ingest_eps / keys_eps:.0%} of the keys-only baseline. Both baselines get their rows "
        "prepared before the clock starts, in the same batch size; ingest parses the file. "
        f"Medians of {args.repeat} interleaved runs, each in turn first, second and last "
        "of its round; seconds of every run: "
        + "; ".join(f"{label} " + ", ".join(f"{v:.1f}" for v in runs[label]) for label in labels)
        + ".",
    ]
    publish("Ingest throughput", lines, save=not args.no_record)


if __name__ == "__main__":
    main()
