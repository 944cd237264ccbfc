"""How far the browser family's self-supervised precision estimate is from the truth.

    python bench/chain_estimate.py --seed-offset 1000 --seed-offset 2000
    python bench/chain_estimate.py --world cookie-churn --seed-offset 2000 --no-record

Issue #10 asks for the estimate of each family's precision next to the precision
measured with the ground truth, and for the estimate to be fixed when it is
optimistic. docs/quality.md judges the links idgraph applied on the benchmark's own
worlds; this bench looks at the browser family alone, on worlds with the benchmark's
parameters and *other seeds* (``--seed-offset``, default 1000: seeds 2001-2008, used
by neither the quality tables nor the tests), so that a change to the estimate is
judged on data it was not developed on.

For each world: generate, ingest, resolve without a model (idgraph's merge-protected
deterministic profiles), then build the chains exactly as training does
(:func:`ml.browsers.home_chains` at the model's target) and the links
:func:`ml.browsers.chain_links` would apply. Reported:

- the estimate (``lookalike_estimate``: point and 95% lower bound);
- the truth over the links that matter: links joining two different deterministic
  profiles, judged as docs/quality.md judges applied links (right when the two
  profiles hold identifiers of one common person);
- the groups (one IP, one user agent, lifetimes in sequence) that truly hold two
  persons, how many of those persons live in different households (an address used
  in turn by different people: a reassigned home IP, a hotel, a café with few
  guests), and the same-user-agent groups of two persons that look consistent
  against the share the estimate assumes (``consistent_by_chance``, measured on
  pairs of different user agents);
- the estimate's count of look-alike groups of people who used an address *one after
  the other* (``in_turn``; see :func:`ml.browsers.lookalike_estimate`);
- the profiles' B-cubed precision and recall with *every* chain link applied, whatever
  the estimate, next to their recall without: what the family could bring at most
  (on the worlds where training refuses it, whether the refusal is what keeps them
  under issue #10's recall target). Before it was
  counted, the estimate was above the truth on 6 of 9 unseen worlds, by up to 1.3
  points (docs/quality-estimates.md, the earlier run).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, machine, record
from quality import components, link_precision

from app.config import Config
from app.resources import open_resources
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve
from ml.browsers import chain_links, home_chains, home_groups, in_sequence
from ml.evaluation import evaluate, read_households, read_truth
from ml.evidence import identifier_histories
from ml.linking import LinkingSettings
from ml.synthetic import GeneratedData, generate
from ml.worlds import BENCH_WORLDS, WorldParams

ESTIMATES = RESULTS.parent / "quality-estimates.md"
SECTION = "Browser chains: the estimate against the truth"


@dataclass
class Resolved:
    """A generated world ingested and resolved without a model: what the chain
    benches judge links on."""

    data: GeneratedData
    truth: dict[Identifier, set[str]]
    assigned: dict[Identifier, str]  #: identifier -> deterministic profile
    members: dict[str, list[Identifier]]  #: profile -> its identifiers
    histories: Any  #: ml.evidence.identifier_histories of the weak observations


def resolved_world(world: WorldParams, work: Path) -> Resolved:
    """Generate ``world``, ingest it and resolve it without a model."""
    data = generate(work / world.name / "data", params=world)
    config = Config.load(env={}, overrides={"data_dir": work / world.name / "idgraph"})
    with open_resources(config) as res:
        res.ingester().ingest_records(read_records(data.events_path, "jsonl"))
        resolve(res.store, res.registry, res.resolve_settings())
        assigned = res.store.assignments()
        observations = res.store.weak_observations(
            res.registry.strong_types, res.registry.weak_types
        )
    members: dict[str, list[Identifier]] = defaultdict(list)
    for identifier, profile in sorted(assigned.items()):
        members[profile].append(identifier)
    return Resolved(data, read_truth(data.truth_path), assigned, members,
                    identifier_histories(observations))  # fmt: skip


def measure(world: WorldParams, work: Path) -> dict[str, Any]:
    world_resolved = resolved_world(world, work)
    data, truth, assigned = world_resolved.data, world_resolved.truth, world_resolved.assigned
    members, histories = world_resolved.members, world_resolved.histories
    households = read_households(data.events_path.parent / "households.csv")
    settings = LinkingSettings()
    chains, estimate = home_chains(histories, settings.target_precision, settings.chain_widths)

    # links within one profile already decide nothing: judged are those joining two
    links = [lk for lk in chain_links(chains, list(members.values()))
             if assigned.get(lk.a) != assigned.get(lk.b)]  # fmt: skip
    judgements = link_precision(links, assigned, truth).values()
    right, judged = sum(r for r, _ in judgements), sum(j for _, j in judgements)
    two_persons = other_homes = 0
    for order in chains.chains:
        owners = {next(iter(truth[m])) for m in order if len(truth.get(m, ())) == 1}
        if len(owners) > 1:
            two_persons += 1
            other_homes += len({households.get(p) for p in owners}) > 1
    without, every = evaluate(assigned, truth), evaluate(_joined(assigned, links), truth)
    return {
        "world": world,
        "estimate": estimate,
        "truth": (right, judged),
        "bcubed": (without.bcubed_recall, every.bcubed_precision, every.bcubed_recall),
        "two_persons": two_persons,
        "other_homes": other_homes,
        "true_consistent": _true_consistent(histories, truth, estimate["home_max_agents"]),
    }


def _joined(assigned: dict[Identifier, str], links: list[Any]) -> dict[Identifier, str]:
    """The profiles ``assigned`` with ``links`` applied: the profiles they join made one."""
    profiles = sorted(set(assigned.values()))
    label = components(profiles, [(assigned[lk.a], assigned[lk.b]) for lk in links])
    return {identifier: label[profile] for identifier, profile in assigned.items()}


def _true_consistent(histories: Any, truth: dict[Identifier, set[str]], max_agents: int) -> str:
    """Of the (IP, user agent) groups at homes (as the chains were built) holding cookies
    of two persons, the share whose lifetimes follow one another: what the estimate
    calls consistent by chance."""
    lifetime, groups = home_groups(histories, max_agents=max_agents)
    two = passed = 0
    for members in groups.values():
        order = sorted(members, key=lambda m: (lifetime[m], m))
        if len({next(iter(truth[m])) for m in order if len(truth.get(m, ())) == 1}) > 1:
            two += 1
            passed += in_sequence(order, lifetime)
    return f"{passed / two:.2f} ({passed}/{two})" if two else "-"


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| world (seed) | chain links judged | truth | estimate (95% lower bound) | "
        "estimate - truth | groups of two persons (of them, two homes) | two persons' "
        "groups consistent: measured / assumed | look-alikes in turn (estimated groups) | "
        "every chain link applied: B-cubed P / R (R without) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        right, judged = r["truth"]
        true_p = right / judged if judged else 1.0
        e = r["estimate"]
        lines.append(
            f"| {r['world'].name} ({r['world'].seed}) | {judged:,} | {true_p:.4f} | "
            f"{e['precision']:.4f} ({e['precision_lower_bound']:.4f}) | "
            f"{e['precision'] - true_p:+.4f} | {r['two_persons']} ({r['other_homes']}) | "
            f"{r['true_consistent']} / {e['consistent_by_chance']:.2f} | "
            f"{e.get('in_turn', '-')} | {r['bcubed'][1]:.4f} / {r['bcubed'][2]:.4f} "
            f"({r['bcubed'][0]:.4f}) |"
        )
    return lines


def unseen_worlds(names: list[str], offsets: list[int]) -> Iterator[tuple[int, WorldParams]]:
    """(offset, world) for the named bench worlds (default all) at each seed offset
    (default 1000): the benchmark's parameters, seeds nothing else uses."""
    for offset in offsets or [1000]:
        for name in names or list(BENCH_WORLDS):
            yield offset, BENCH_WORLDS[name].replace(seed=BENCH_WORLDS[name].seed + offset)


def finish(script: str, section: str, lines: list[str], rows: int, started: float,
           *, save: bool) -> None:  # fmt: skip
    """Print the table and how long it took; record it in docs/quality-estimates.md."""
    print("\n".join(lines))
    took = (time.perf_counter() - started) / 60
    print(f"{rows} rows in {took:.1f} minutes ({machine()})")
    if save:
        command = f"python bench/{script} {' '.join(sys.argv[1:])}".strip()
        body = "\n".join([f"`{command}` ({took:.1f} minutes)", "", *lines])
        record(section, body, path=ESTIMATES, title="# Quality estimates against the truth")


def world_arguments(description: str | None) -> argparse.ArgumentParser:
    """--world, --seed-offset (for :func:`unseen_worlds`) and --no-record."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--world", action="append", default=[], help="One world (repeatable).")
    parser.add_argument("--seed-offset", type=int, action="append", default=[],
                        help="Added to each world's seed (repeatable; default 1000).")  # fmt: skip
    parser.add_argument("--no-record", action="store_true")
    return parser


def main() -> None:
    parser = world_arguments(__doc__)
    parser.add_argument("--persons", type=int, help="Override each world's persons.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-chains-"))
    started = time.perf_counter()
    rows = []
    for offset, world in unseen_worlds(args.world, args.seed_offset):
        if args.persons:
            world = world.replace(persons=args.persons)
        rows.append(measure(world, work / str(offset)))
        print(table(rows[-1:])[-1], flush=True)
    finish("chain_estimate.py", SECTION, table(rows), len(rows), started, save=not args.no_record)


if __name__ == "__main__":
    main()
