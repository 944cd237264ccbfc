"""How far the device family's self-supervised precision estimate is from the truth.

    python bench/device_estimate.py --seed-offset 2000
    python bench/device_estimate.py --world big-households --profile-precision 0.99 --no-record

The device family links an anonymous cookie to the single cookie or device that is
the same browser under another cookie (:mod:`ml.linking`). It decides only where
the browser chains are refused, so docs/quality.md sees its links on few worlds;
this bench makes it decide on every world: on worlds with the benchmark's
parameters and *other seeds* (``--seed-offset``, default 1000), for each
``--profile-precision`` (default 0.995: the families' bars follow from it,
:mod:`ml.error_budget`), it trains the model as ``idgraph train`` does
on idgraph's merge-protected deterministic profiles, switches the browser and
profile families off, proposes links and judges each with the ground truth: right
when the anonymous cluster and the cookie it links to hold identifiers of one
common person (as docs/quality.md judges applied links).

Reported per world and profile precision: the bar the error budget set for the
family (the 95% lower bound of its simulated decisions' precision at the chosen
threshold), its estimate there, the truth over its links, estimate - truth, and
whether the truth holds the bar.
Before anonymous cookies competed in the simulated decisions
(:mod:`ml.examples`), big-households (seed 1004) was linked at an estimated 1.0000
and a true 0.9835 under a 0.99 target.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chain_estimate import finish, unseen_worlds, world_arguments
from quality import link_precision

from app.config import Config
from app.linking import deterministic_plan
from app.resources import open_resources
from graph.ingest.readers import read_records
from ml.evaluation import read_truth
from ml.evidence import identifier_histories
from ml.linking import LinkingSettings, propose_links
from ml.synthetic import generate
from ml.training import TargetUnreachable, train_model
from ml.worlds import WorldParams

SECTION = "Device family: the estimate against the truth"


def measure(world: WorldParams, work: Path, targets: list[float]) -> list[dict[str, Any]]:
    data = generate(work / world.name / "data", params=world)
    truth = read_truth(data.truth_path)
    config = Config.load(env={}, overrides={"data_dir": work / world.name / "idgraph"})
    with open_resources(config) as res:
        res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        deterministic = deterministic_plan(res)
        observations = res.store.weak_observations(
            res.registry.strong_types, res.registry.weak_types
        )
    clusters = deterministic.clusters
    blocked = set(deterministic.quarantined)
    assigned = {m: str(n) for n, members in enumerate(clusters) for m in members}
    histories = identifier_histories(observations)
    rows = []
    for target in targets:
        settings = LinkingSettings(profile_precision=target)
        row: dict[str, Any] = {"world": world, "target": target}
        try:
            model, metadata = train_model(clusters, observations, settings, blocked=blocked)
            estimate = metadata["estimated"]["device"]
        except TargetUnreachable as e:
            estimate = e.report["estimated"]["device"]
        row["estimate"] = estimate
        if estimate["reached"]:
            model.thresholds_ = {**model.thresholds_, "browser": 1.01, "profile": 1.01}
            proposal = propose_links(clusters, histories, model, settings, blocked=blocked)
            judged = link_precision(proposal.links, assigned, truth).values()
            row["truth"] = (sum(r for r, _ in judged), sum(j for _, j in judged))
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| world (seed) | profile precision | bar | estimate (accepted simulated decisions) | "
        "links judged | truth | estimate - truth | truth holds the bar |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        e = r["estimate"]
        head = f"| {r['world'].name} ({r['world'].seed}) | {r['target']} |"
        if not e["reached"]:
            best = e["best_reachable"]
            lines.append(
                f"{head} - | links nothing (best 95% lower bound "
                f"{best['precision_lower_bound']:.4f}) | - | - | - | - |"
            )
            continue
        right, judged = r["truth"]
        true_p = right / judged if judged else 1.0
        bar = e["budget"]["bar"]
        lines.append(
            f"{head} {bar:.4f} | {e['precision']:.4f} ({e['accepted']}) | {judged:,} | "
            f"{true_p:.4f} | {e['precision'] - true_p:+.4f} | "
            f"{'yes' if true_p >= bar else '**no**'} |"
        )
    return lines


def main() -> None:
    parser = world_arguments(__doc__)
    parser.add_argument("--profile-precision", type=float, action="append", default=[],
                        help="Profiles' B-cubed precision target (repeatable; default "
                             "0.995).")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-devices-"))
    started = time.perf_counter()
    rows = []
    for offset, world in unseen_worlds(args.world, args.seed_offset):
        found = measure(world, work / str(offset), args.profile_precision or [0.995])
        rows.extend(found)
        print("\n".join(table(found)[2:]), flush=True)
    finish("device_estimate.py", SECTION, table(rows), len(rows), started, save=not args.no_record)


if __name__ == "__main__":
    main()
