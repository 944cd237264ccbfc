"""Browser chains at narrower homes: can a stricter definition of a home certify them?

    python bench/chain_widths.py --seed-offset 0 --seed-offset 1000
    python bench/chain_widths.py --world big-households --seed-offset 0 --no-record

Where training refuses the browser family (its estimate's 95% lower bound under the
target, 0.99), fewer user agents per home IP might leave fewer look-alike browsers
and pass. For each world: generate, ingest, resolve without a model, then for homes
of at most 2, 3, 4, 6, 8 and 12 user agents the chain groups, the estimate's lower
bound (:func:`ml.browsers.lookalike_estimate`) and the precision of the links joining
two deterministic profiles judged with the ground truth (as bench/chain_estimate.py
judges them). Offset 0 is the quality tables' own seeds.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chain_estimate import finish, resolved_world, unseen_worlds, world_arguments
from quality import link_precision

from ml.browsers import browser_chains, chain_links, lookalike_estimate
from ml.worlds import WorldParams

SECTION = "Browser chains at narrower homes"
WIDTHS = (2, 3, 4, 6, 8, 12)


def measure(world: WorldParams, work: Path) -> dict[int, tuple[int, float, float]]:
    """Per home width: (groups, estimate's lower bound, truth of the links)."""
    resolved = resolved_world(world, work)
    assigned, truth, members = resolved.assigned, resolved.truth, resolved.members
    result = {}
    for width in WIDTHS:
        chains = browser_chains(resolved.histories, max_agents=width)
        estimate = lookalike_estimate(chains)
        links = [lk for lk in chain_links(chains, list(members.values()))
                 if assigned.get(lk.a) != assigned.get(lk.b)]  # fmt: skip
        judged = link_precision(links, assigned, truth).values()
        right, seen = sum(r for r, _ in judged), sum(j for _, j in judged)
        result[width] = (estimate["groups"], estimate["precision_lower_bound"],
                         right / seen if seen else 1.0)  # fmt: skip
    return result


def table(rows: list[tuple[WorldParams, dict[int, Any]]]) -> list[str]:
    lines = [
        "| world (seed) | " + " | ".join(f"≤ {w} user agents" for w in WIDTHS) + " |",
        "|---|" + "---:|" * len(WIDTHS),
    ]
    for world, by_width in rows:
        cells = []
        for width in WIDTHS:
            groups, bound, true = by_width[width]
            shown = f"**{bound:.4f}**" if bound >= 0.99 else f"{bound:.4f}"
            cells.append(f"{groups:,}: {shown} / {true:.4f}")
        lines.append(f"| {world.name} ({world.seed}) | " + " | ".join(cells) + " |")
    note = ("Each cell: chain groups, the estimate's 95% lower bound (bold: reaches 0.99, "
            "the family would link) / the precision of its links with the truth.")  # fmt: skip
    lines += ["", note]
    return lines


def main() -> None:
    args = world_arguments(__doc__).parse_args()
    work = Path(tempfile.mkdtemp(prefix="idgraph-widths-"))
    started = time.perf_counter()
    rows = []
    for offset, world in unseen_worlds(args.world, args.seed_offset):
        rows.append((world, measure(world, work / str(offset))))
        print(table(rows[-1:])[2], flush=True)
    finish("chain_widths.py", SECTION, table(rows), len(rows), started, save=not args.no_record)


if __name__ == "__main__":
    main()
