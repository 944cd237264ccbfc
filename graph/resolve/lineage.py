"""Profile IDs with lineage: which cluster keeps an existing profile ID when
profiles merge or split, where retired IDs point, and a cluster's anchor (its
strongest identifier). Pure functions over plain data, shared by the full
``resolve``, the real-time path, households and dry runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from graph.resolve.clustering import new_profile_id
from graph.store.records import Identifier

__all__ = ["ANCHOR_ORDER", "IdAssignment", "anchor_of", "assign_ids_with_lineage"]

#: a profile's strongest identifiers, strongest first (explanations, ID ties)
ANCHOR_ORDER = (
    "user_id", "email", "phone", "loyalty_id", "device_id", "cookie_id", "anonymous_id"
)  # fmt: skip


@dataclass
class IdAssignment:
    """Profile IDs for clusters and what happened to the old ones."""

    ids: list[str]
    #: retired old ID -> the new profile that took most of its members
    merged_into: dict[str, str] = field(default_factory=dict)
    #: new ID -> the old profile most of its members came from
    split_from: dict[str, str] = field(default_factory=dict)


def assign_ids_with_lineage(
    clusters: Sequence[Sequence[Identifier]],
    current: Mapping[Identifier, str],
    *,
    created_at: Mapping[str, int] | None = None,
    new_id: Callable[[], str] = new_profile_id,
) -> IdAssignment:
    """Keep existing IDs; retire merged ones with a pointer; name split-off parts.

    A cluster keeps the existing ID holding most of its identifiers (then the
    oldest profile, then the smaller ID); when parts of one profile hold equally
    many of its identifiers, the part with the strongest identifier (user_id,
    then e-mail…, see :data:`ANCHOR_ORDER`) keeps it. An existing ID kept by no cluster is
    retired, pointing to the cluster that took most of its members. A cluster
    that keeps no ID gets a new one, pointing to the profile most of its members
    came from (if any). Matching is greedy over (overlap desc, age, ID), so the
    result does not depend on input order.
    """
    created_at = created_at or {}
    overlap: list[Counter[str]] = [
        Counter(current[m] for m in members if m in current) for members in clusters
    ]
    strength = [_strength(members) for members in clusters]
    candidates = sorted(
        (-n, created_at.get(pid, 0), pid, strength[position], position)
        for position, counts in enumerate(overlap)
        for pid, n in counts.items()
    )
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for _, _, pid, _, position in candidates:
        if position not in chosen and pid not in taken:
            chosen[position] = pid
            taken.add(pid)
    assignment = IdAssignment(ids=[])
    for position in range(len(clusters)):
        kept_id = chosen.get(position)
        if kept_id is None:
            kept_id = new_id()
            if overlap[position]:
                origin = min(overlap[position].items(), key=lambda kv: (-kv[1], kv[0]))[0]
                assignment.split_from[kept_id] = origin
        assignment.ids.append(kept_id)
    kept = set(chosen.values())
    biggest_share: dict[str, tuple[int, int]] = {}
    for position, counts in enumerate(overlap):
        for pid, n in counts.items():
            if pid not in kept and (pid not in biggest_share or n > biggest_share[pid][0]):
                biggest_share[pid] = (n, position)
    for pid, (_, position) in biggest_share.items():
        assignment.merged_into[pid] = assignment.ids[position]
    return assignment


def anchor_of(members: Sequence[Identifier]) -> Identifier:
    """A cluster's strongest identifier: of the first :data:`ANCHOR_ORDER` type it
    holds, the smallest; names a profile that has no ID yet (dry runs) and the part
    of a profile a read at a confidence keeps."""
    rank = {t: n for n, t in enumerate(ANCHOR_ORDER)}
    return min(members, key=lambda m: (rank.get(m.type, len(rank)), m))


def _strength(members: Sequence[Identifier]) -> tuple[int, Identifier]:
    """Smaller is stronger: the best anchor type held, then the smallest key."""
    ranks = [
        ANCHOR_ORDER.index(m.type) if m.type in ANCHOR_ORDER else len(ANCHOR_ORDER) for m in members
    ]
    return (min(ranks, default=len(ANCHOR_ORDER)), min(members))
