"""The deterministic plan of a whole store, with Python's collector as it comes and
with full collections made rare (graph/heap.py), alternated in one process.

    python bench/plan.py --data-dir /path/to/idgraph-data   # an ingested store
    python bench/plan.py --persons 4000                      # generates and ingests one

``graph.resolve.resolution.plan`` is what ``train`` and every full resolve run over
the whole graph (twice in a resolve: without and with the model's links). The
identifiers, links and overrides are read once; each round plans them with the
default thresholds, then inside ``rare_full_collections``; both must give the same
plan.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import publish, workspace

from app.config import Config
from app.resources import open_resources
from graph.heap import rare_full_collections
from graph.ingest.readers import read_records
from graph.resolve.resolution import plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="An ingested store (else --persons).")
    parser.add_argument("--persons", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    if args.data_dir:
        config, source = Config.load(overrides={"data_dir": args.data_dir}), str(args.data_dir)
    else:
        _, data, config = workspace(args.persons, prefix="idgraph-plan-")
        source = f"generated, {args.persons:,} persons"
    with open_resources(config) as res:
        if not args.data_dir:
            res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        strong = res.registry.strong_types
        nodes = list(res.store.identifiers_of_types(strong))
        links = list(res.store.weighted_links(strong))
        overrides = res.store.quarantine_overrides()
        settings = res.resolve_settings()

    def planned() -> tuple[float, object]:
        started = time.perf_counter()
        result = plan(nodes, links, {}, created_at={}, overrides=overrides, settings=settings)
        return time.perf_counter() - started, (result.clusters, result.conflicts,
                                               sorted(result.quarantined.items()))  # fmt: skip

    times: dict[str, list[float]] = {"default": [], "rare": []}
    for _ in range(args.rounds):
        gc.collect()
        seconds, default = planned()
        times["default"].append(seconds)
        gc.collect()
        with rare_full_collections():
            seconds, rare = planned()
        times["rare"].append(seconds)
        assert default == rare, "the collector's thresholds changed the plan"
    best = {k: min(v) for k, v in times.items()}
    publish(
        "Deterministic plan: the collector's full collections",
        [
            f"Command: `python bench/plan.py {' '.join(sys.argv[1:])}`",
            "",
            f"{len(nodes):,} strong identifiers, {len(links):,} links ({source}); "
            f"{args.rounds} rounds, alternated, the same plan each time.",
            "",
            "| collector | plan, each round (s) | best |",
            "|---|---|---:|",
            f"| CPython's thresholds {gc.get_threshold()} | "
            f"{', '.join(f'{t:.2f}' for t in times['default'])} | {best['default']:.2f} |",
            f"| full collections rare (graph.heap) | "
            f"{', '.join(f'{t:.2f}' for t in times['rare'])} | {best['rare']:.2f} |",
            "",
            f"Rare full collections: {100 * (1 - best['rare'] / best['default']):.0f}% less.",
        ],
        save=not args.no_record,
    )


if __name__ == "__main__":
    main()
