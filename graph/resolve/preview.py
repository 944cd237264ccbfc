"""A dry run of resolution: what a full ``resolve`` with other settings or another
model *would* change, computed without writing anything.

The plan is the one :func:`graph.resolve.resolution.resolve` would apply (same
reads, same planner: :func:`~graph.resolve.resolution.decide`), compared with the
profiles as they are. The diff has a row for every identifier whose profile would
change: from which profile to which, where a profile that does not exist yet is
named by its anchor (its strongest identifier), since a new profile's ID is only
drawn when it is written. Applying the same settings then moves exactly those
identifiers (tested).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph.ingest.identifiers import Registry
from graph.progress import Progress, no_progress
from graph.resolve.lineage import anchor_of
from graph.resolve.resolution import Proposer, ResolveSettings, decide
from graph.store import GraphStore
from graph.store.records import Identifier, Plan

__all__ = ["SIZE_BUCKETS", "Preview", "diff_of", "preview", "size_distribution"]

#: profile-size buckets of the distribution (upper bounds; the last is open)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100)
#: how many of the largest profiles after the change the summary lists
LARGEST = 10


@dataclass
class Preview:
    summary: dict[str, Any]
    diff: list[dict[str, Any]]  #: JSON Lines rows, one per identifier that would move


def preview(
    store: GraphStore,
    registry: Registry,
    settings: ResolveSettings,
    *,
    propose: Proposer | None = None,
    progress: Progress = no_progress,
) -> Preview:
    """The resolution ``settings`` (and ``propose``) would make, as a summary and a
    diff against the current profiles. Reads only."""
    decision = decide(store, registry, settings, propose=propose, progress=progress)
    result = diff_of(decision.plan, decision.current)
    if propose is not None:
        result.summary["model"] = {
            "version": decision.version,
            "applied": len(decision.plan.model_links),
            **{k: v for k, v in decision.model_stats.items() if k != "excluded_ips"},
        }
    return result


def diff_of(decided: Plan, current: Mapping[Identifier, str]) -> Preview:
    """Pure: the summary and per-identifier diff between ``current`` assignments and
    what ``decided`` would write."""
    before_ids = set(current.values())
    profile_of: dict[Identifier, str] = {}
    anchors: dict[str, Identifier] = {}
    for members in decided.clusters:
        pid = decided.moves.get(members[0]) or current[members[0]]
        for member in members:
            profile_of[member] = decided.moves.get(member, current.get(member, pid))
        anchors[pid] = anchor_of(members)
    diff: list[dict[str, Any]] = []
    for identifier in sorted(set(current) | set(profile_of)):
        old, new = current.get(identifier), profile_of.get(identifier)
        if old == new:
            continue
        row: dict[str, Any] = {"type": identifier.type, "value": identifier.value,
                               "from": old}  # fmt: skip
        if new is None:
            row.update(to=None, gone=True)
        elif new in before_ids:
            row.update(to=new, new_profile=False)
        else:
            anchor = anchors[new]
            row.update(to=None, new_profile=True,
                       anchor={"type": anchor.type, "value": anchor.value})  # fmt: skip
        diff.append(row)
    sizes_before = Counter(Counter(current.values()).values())
    sizes_after = Counter(len(members) for members in decided.clusters)
    old_size = Counter(current.values())
    largest = sorted(decided.clusters, key=lambda ms: (-len(ms), min(ms)))[:LARGEST]
    summary: dict[str, Any] = {
        "profiles_before": len(before_ids),
        "profiles_after": len(decided.clusters),
        "identifiers_moving": sum(1 for r in diff if r["from"] is not None and not r.get("gone")),
        "identifiers_new": sum(1 for r in diff if r["from"] is None),
        "identifiers_gone": sum(1 for r in diff if r.get("gone")),
        "merges": len(decided.merged_into),
        "merged": [{"retired": a, "into": b} for a, b in sorted(decided.merged_into.items())],
        "splits": len(decided.split_from),
        "split": [
            {"anchor": _key(anchors[new]), "split_from": old}
            for new, old in sorted(decided.split_from.items())
            if new in anchors
        ],
        "new_profiles": sum(1 for pid in anchors if pid not in before_ids),
        "largest": [
            {
                "profile_id": profile_of[members[0]] if profile_of[members[0]] in before_ids
                else None,
                "anchor": _key(anchor_of(members)),
                "size": len(members),
                "size_before": old_size.get(profile_of[members[0]], 0),
            }
            for members in largest
        ],
        "sizes": {
            "before": size_distribution(sizes_before),
            "after": size_distribution(sizes_after),
        },
        "quarantined": len(decided.quarantined),
        "conflicts": len(decided.conflicts),
    }  # fmt: skip
    return Preview(summary, diff)


def size_distribution(sizes: Mapping[int, int]) -> dict[str, int]:
    """Profiles by size bucket: ``{"1": n, "2": n, "3-5": n, ..., "101+": n}``."""
    out: dict[str, int] = {}
    low = 1
    for high in SIZE_BUCKETS:
        label = str(high) if low == high else f"{low}-{high}"
        out[label] = sum(n for size, n in sizes.items() if low <= size <= high)
        low = high + 1
    out[f"{low}+"] = sum(n for size, n in sizes.items() if size >= low)
    return out


def _key(identifier: Identifier) -> dict[str, str]:
    return {"type": identifier.type, "value": identifier.value}
