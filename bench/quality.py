"""Profile quality on generated data, next to baselines computed on the same data.

    python bench/quality.py --persons 10000

Generates persons with ground truth, ingests them into a fresh embedded store,
and evaluates (ml/evaluation.py) three ways of forming profiles:

- naive IP linking: connected components of strong identifiers *and* IPs;
- deterministic only: connected components of strong-identifier links, no protection;
- idgraph resolve without a model: merge limits, quarantine;
- idgraph train + resolve: the same plus model-scored links (run as the CLI
  commands, in subprocesses, timed, with their peak memory).

Writes the table to docs/quality.md and the train/resolve timings to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, machine, record

from app.config import Config
from app.resources import open_resources
from graph.clustering import connected_components
from graph.events import Identifier
from graph.readers import read_records
from graph.resolution import resolve
from ml.evaluation import Quality, evaluate, read_truth
from ml.synthetic import generate

QUALITY = RESULTS.parent / "quality.md"
IDGRAPH = shutil.which("idgraph", path=str(Path(sys.executable).parent)) or "idgraph"
COLUMNS = [
    ("B-cubed P", "bcubed_precision"),
    ("B-cubed R", "bcubed_recall"),
    ("B-cubed F1", "bcubed_f1"),
    ("pair P", "pairwise_precision"),
    ("pair R", "pairwise_recall"),
    ("pair F1", "pairwise_f1"),
    ("over-merge", "over_merge_rate"),
    ("over-merged", "over_merged_profiles"),
    ("profiles/person", "fragmentation"),
    ("largest", "largest_profile"),
]


def components(
    nodes: list[Identifier], edges: list[tuple[Identifier, Identifier]]
) -> dict[Identifier, str]:
    return {m: f"c{n}" for n, group in enumerate(connected_components(nodes, edges)) for m in group}


def row(name: str, q: Quality) -> str:
    cells = []
    for _, attr in COLUMNS:
        value = getattr(q, attr)
        cells.append(f"{value:.4f}" if isinstance(value, float) else str(value))
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-quality-"))
    data = generate(work / "data", persons=args.persons)
    truth = read_truth(data.truth_path)
    config = Config.load(env={}, overrides={"data_dir": work / "idgraph"})
    with open_resources(config) as res:
        report = res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        registry = res.registry
        strong = registry.strong_types
        every = strong + registry.weak_types
        naive = components(
            res.store.identifiers_of_types(every), res.store.links_between_types(every)
        )
        plain = components(
            res.store.identifiers_of_types(strong), res.store.links_between_types(strong)
        )
        started = time.perf_counter()
        resolved = resolve(res.store, registry, res.resolve_settings())
        resolve_s = time.perf_counter() - started
        protected = res.store.assignments()
        env = {**os.environ, "IDGRAPH_DATA_DIR": str(config.data_dir)}
        timings = {}
        for command in ("train", "resolve"):
            started = time.perf_counter()
            done = subprocess.run([IDGRAPH, command], env=env, capture_output=True, text=True)
            timings[command] = time.perf_counter() - started
            if done.returncode:
                raise SystemExit(f"idgraph {command} failed: {done.stderr}")
            print(done.stdout.strip())
        children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        modelled = res.store.assignments()
    results = [
        ("naive IP linking (baseline)", evaluate(naive, truth)),
        ("deterministic only (baseline)", evaluate(plain, truth)),
        ("idgraph resolve, no model (merge limits + quarantine)", evaluate(protected, truth)),
        ("idgraph train + resolve (with model-scored links)", evaluate(modelled, truth)),
    ]
    q = results[-1][1]
    base = results[1][1]
    lines = [
        "# Profile quality",
        "",
        f"_Measured on {machine()}._",
        "",
        f"Command: `python bench/quality.py --persons {args.persons}` — {args.persons:,} generated "
        f"persons, {report.records:,} event lines, {q.items:,} evaluated identifiers "
        f"({q.excluded} shared or placeholder values left out of the scores: a family "
        "tablet belongs to two people, a till's placeholder e-mail to nobody).",
        "",
        "| profiles from | " + " | ".join(c for c, _ in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
        *(row(name, quality) for name, quality in results),
        "",
        f"Targets: B-cubed precision {q.bcubed_precision:.4f} (>= 0.99); recall "
        f"{q.bcubed_recall:.4f}, {100 * (q.bcubed_recall - base.bcubed_recall):+.1f} points over "
        f"deterministic only (>= +10); over-merge {100 * q.over_merge_rate:.2f}% (< 1%); "
        f"largest profile {q.largest_profile} vs largest true person {q.largest_person}.",
        "",
        f"Without a model: {resolved.profiles:,} profiles, {resolved.conflicts:,} links refused, "
        f"{resolved.quarantined:,} identifiers quarantined ({resolve_s:.1f} s). "
        f"`idgraph train` {timings['train']:.1f} s + `idgraph resolve` {timings['resolve']:.1f} s "
        f"= {timings['train'] + timings['resolve']:.1f} s (target < 120 s), peak memory of the "
        f"larger of the two {children_peak:,.0f} MiB.",
        "",
        "Metrics (ml/evaluation.py): B-cubed precision/recall average, per identifier, the share "
        "of its profile that is the same person / of its person that is in its profile; pairwise "
        "counts pairs of identifiers; over-merge is the share of profiles holding identifiers "
        "of more than one person; profiles/person is fragmentation (1.0 = no person split).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        QUALITY.write_text(text)
        record(
            "Link model: train + resolve",
            f"Command: `python bench/quality.py --persons {args.persons}` ({report.records:,} "
            "event lines; the commands run as subprocesses against the same store)\n\n"
            "| step | seconds |\n|---|---:|\n"
            f"| `idgraph train` | {timings['train']:.1f} |\n"
            f"| `idgraph resolve` (with the model) | {timings['resolve']:.1f} |\n"
            f"| together (target < 120) | {timings['train'] + timings['resolve']:.1f} |\n\n"
            f"Peak resident memory of the larger of the two processes: {children_peak:,.0f} MiB. "
            "Quality figures: docs/quality.md.",
        )


if __name__ == "__main__":
    main()
