"""Merge-protected clustering and supernode quarantine (profile IDs with lineage:
:mod:`graph.resolve.lineage`).

Pure functions over plain data, shared by the full ``resolve``, the real-time
path of ``POST /v1/events`` and erasure; they never touch a store.

Links are applied strongest first: deterministic links before model links;
among deterministic links, those between two identity identifiers (an e-mail
and a user_id seen in one login) before those involving a device or cookie,
then by observation count; model links by score. Each link joins two clusters only if the merged
cluster stays within the per-type limits (one user_id, one loyalty_id, three
e-mails, two phones per profile by default). A link that would break a limit is
not applied and is recorded as a conflict. Ties are broken by the identifiers'
keys, so the result depends on the set of links only, never on their order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from graph.ingest.events import DAY_MS
from graph.resolve.clustering import connected_components, find_root
from graph.store.records import DEVICE_TYPES, IDENTITY_TYPES, Conflict, Identifier, Link

__all__ = [
    "ACCOUNT_TYPES",
    "DEFAULT_LIMITS",
    "DEFAULT_QUARANTINE",
    "DEVICE_TYPES",
    "IDENTITY_TYPES",
    "MODEL_JOINS_IDENTIFIED",
    "ClusterResult",
    "Conflict",
    "Link",
    "bridging",
    "cluster",
    "cluster_on",
    "handed_on",
    "identity_degrees",
    "largest_first",
    "quarantine",
    "spanning",
]

#: most identifiers of a type one profile may hold (types not listed: unlimited)
DEFAULT_LIMITS: Mapping[str, int] = {"user_id": 1, "loyalty_id": 1, "email": 3, "phone": 2}
#: one per customer: an identifier of another type linked to two of one of these spans
#: two customers (a family tablet, a shared family e-mail) and is quarantined
ACCOUNT_TYPES = frozenset({"user_id", "loyalty_id"})
#: an identifier linked to more distinct identity identifiers than this is quarantined
DEFAULT_QUARANTINE: Mapping[str, int] = {
    "email": 8,
    "phone": 8,
    "user_id": 8,
    "loyalty_id": 8,
    "device_id": 8,
    "cookie_id": 8,
    "anonymous_id": 8,
}
#: identity identifiers that are given up and handed to someone else (recycled numbers)
RECYCLABLE_TYPES = frozenset({"phone", "email"})
#: used with one person, then with another at least this many days later: handed on
#: (carriers keep a given-up number dormant for weeks to months before reassigning it)
DEFAULT_HANDOVER_DAYS = 30.0
#: the reason recorded when a model link would join two identified profiles
MODEL_JOINS_IDENTIFIED = "model links never join two identified profiles"


@dataclass
class ClusterResult:
    #: clusters, largest first, members sorted
    clusters: list[list[Identifier]]
    applied: list[Link] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def cluster(
    nodes: Iterable[Identifier],
    links: Iterable[Link],
    *,
    limits: Mapping[str, int] = DEFAULT_LIMITS,
    quarantined: Iterable[Identifier] = (),
) -> ClusterResult:
    """Merge-protected clusters of ``nodes``.

    Quarantined identifiers stay alone: their links are recorded as conflicts.
    Links to identifiers not in ``nodes`` are ignored. Cost: O(L log L) for
    sorting the links plus near-constant union-find steps per link, each
    comparing at most ``len(limits)`` type counts.
    """
    members = sorted(set(nodes))
    joining = _Joining({node: node for node in members}, {}, limits, set(quarantined))
    joining.apply(links)
    return joining.result(members)


def cluster_on(
    base: ClusterResult,
    links: Iterable[Link],
    *,
    limits: Mapping[str, int] = DEFAULT_LIMITS,
    quarantined: Iterable[Identifier] = (),
) -> ClusterResult:
    """What :func:`cluster` gives for ``base``'s nodes and links and ``links``, when
    ``base`` is :func:`cluster`'s result for those nodes and links under the same
    ``quarantined`` and every one of ``links`` is applied after all of base's (model
    links after deterministic ones: :meth:`Link.order_key`): the union-find picks up
    where base's stopped, so base's links are neither sorted nor applied again (a
    full resolve clusters the graph without the model's links to score it, then
    with them). Its conflicts and applied links follow base's."""
    parent: dict[Identifier, Identifier] = {}
    counts: dict[Identifier, dict[str, int]] = {}
    for group in base.clusters:
        root = group[0]
        parent.update(dict.fromkeys(group, root))
        if len(group) > 1:
            type_counts: dict[str, int] = {}
            for member in group:
                type_counts[member.type] = type_counts.get(member.type, 0) + 1
            counts[root] = type_counts
    joining = _Joining(parent, counts, limits, set(quarantined))
    joining.joined.conflicts.extend(base.conflicts)
    joining.joined.applied.extend(base.applied)
    joining.apply(links)
    return joining.result(sorted(parent))


@dataclass
class _Joining:
    """Union-find over identifiers under merge protection (:func:`cluster`)."""

    parent: dict[Identifier, Identifier]
    #: type counts of each root that has been joined (a node alone counts its own type)
    counts: dict[Identifier, dict[str, int]]
    limits: Mapping[str, int]
    blocked: set[Identifier]
    joined: ClusterResult = field(default_factory=lambda: ClusterResult(clusters=[]))

    def apply(self, links: Iterable[Link]) -> None:
        parent, counts, limits, blocked = self.parent, self.counts, self.limits, self.blocked
        conflicts, applied = self.joined.conflicts, self.joined.applied
        for link in sorted(
            (lk for lk in links if lk.a in parent and lk.b in parent), key=Link.order_key
        ):
            low, high = (link.a, link.b) if link.a <= link.b else (link.b, link.a)
            if link.a in blocked or link.b in blocked:
                conflicts.append(Conflict(low, high, link.kind, "quarantine"))
                continue
            ra, rb = find_root(parent, link.a), find_root(parent, link.b)
            if ra == rb:
                continue
            ca = counts.get(ra) or {ra.type: 1}
            cb = counts.get(rb) or {rb.type: 1}
            if link.kind == "model" and _identified(ca) and _identified(cb):
                # weak evidence attaches anonymous devices; joining two customers who
                # each have an identity takes identity evidence
                conflicts.append(Conflict(low, high, link.kind, MODEL_JOINS_IDENTIFIED))
                continue
            merged = dict(ca)
            for t, n in cb.items():
                merged[t] = merged.get(t, 0) + n
            broken = [t for t, limit in limits.items() if merged.get(t, 0) > limit]
            if broken:
                reason = ", ".join(f"limit {t} {merged[t]} > {limits[t]}" for t in sorted(broken))
                conflicts.append(Conflict(low, high, link.kind, reason))
                continue
            if (sum(ca.values()), ra) < (sum(cb.values()), rb):
                ra, rb = rb, ra  # union by size, deterministic
            parent[rb] = ra
            counts[ra] = merged
            counts.pop(rb, None)
            applied.append(link)

    def result(self, members: Sequence[Identifier]) -> ClusterResult:
        """The clusters of ``members`` (sorted), largest first."""
        groups: dict[Identifier, list[Identifier]] = defaultdict(list)
        for node in members:
            groups[find_root(self.parent, node)].append(node)
        self.joined.clusters = sorted(groups.values(), key=largest_first)
        return self.joined


def largest_first(members: Sequence[Identifier]) -> tuple[int, Identifier]:
    """The order clusters come out in (:class:`ClusterResult`): largest first, then by
    their first (smallest) member."""
    return -len(members), members[0]


def _identified(counts: Mapping[str, int]) -> bool:
    return any(counts.get(t) for t in IDENTITY_TYPES)


def identity_degrees(links: Iterable[tuple[Identifier, Identifier]]) -> Counter[Identifier]:
    """How many distinct identity identifiers (e-mail, phone, user_id, loyalty_id)
    each identifier is linked to. Cost: O(L)."""
    neighbours: dict[Identifier, set[Identifier]] = defaultdict(set)
    for a, b in links:
        if b.type in IDENTITY_TYPES:
            neighbours[a].add(b)
        if a.type in IDENTITY_TYPES:
            neighbours[b].add(a)
    return Counter({node: len(others) for node, others in neighbours.items()})


def spanning(links: Iterable[tuple[Identifier, Identifier]]) -> set[Identifier]:
    """Identifiers (not themselves accounts) linked to two or more user_ids or two or
    more loyalty_ids: they span customers. One account linked twice (the pair both
    ways round) is one. Cost: O(L)."""
    accounts: dict[Identifier, set[Identifier]] = defaultdict(set)
    for a, b in links:
        if b.type in ACCOUNT_TYPES and a.type not in ACCOUNT_TYPES:
            accounts[a].add(b)
        if a.type in ACCOUNT_TYPES and b.type not in ACCOUNT_TYPES:
            accounts[b].add(a)
    return {i for i, linked in accounts.items() if len(linked) > len({x.type for x in linked})}


def bridging(
    links: Iterable[tuple[Identifier, Identifier]], blocked: set[Identifier]
) -> set[Identifier]:
    """Devices and cookies that tie two people's identities together.

    Identity identifiers (e-mail, phone, user_id, loyalty_id; ``blocked`` ones
    left out) form components through their links with each other: what a
    person's own events tie together. A device or cookie seen with identity
    identifiers of two or more such components is shared (a family tablet, a
    laptop handed on) or at least cannot say whose it is, whatever identifier
    types each person used: it links nobody. Only identity evidence joins
    identities; a device joins the one identity it was seen with.
    Cost: O(L) plus a connected-components pass.
    """
    pairs = set(links)
    identity = sorted(
        {x for pair in pairs for x in pair if x.type in IDENTITY_TYPES and x not in blocked}
    )
    edges = [
        (a, b)
        for a, b in pairs
        if a.type in IDENTITY_TYPES
        and b.type in IDENTITY_TYPES
        and a not in blocked
        and b not in blocked
    ]
    groups = connected_components(identity, edges)
    component = {m: n for n, group in enumerate(groups) for m in group}
    seen: dict[Identifier, set[int]] = defaultdict(set)
    for a, b in pairs:
        for thing, person in ((a, b), (b, a)):
            if thing.type not in IDENTITY_TYPES and person in component:
                seen[thing].add(component[person])
    return {thing for thing, people in seen.items() if len(people) > 1}


def handed_on(
    links: Iterable[Link], blocked: set[Identifier], *, gap_days: float = DEFAULT_HANDOVER_DAYS
) -> set[Identifier]:
    """Phones and e-mails that passed from one person to another (a recycled number).

    Such an identifier X is the only tie between two groups of identity
    identifiers (X's identity neighbours fall in two or more components of the
    identity links without X), and it was used with each group in a period of
    its own: the periods follow each other at least ``gap_days`` apart. One
    person's phone seen with their account and, at the same time, with their
    loyalty card is not handed on. Links with unknown times (0) never count.
    Cost: O(L) plus, per candidate, a search of its identity component.
    """
    adjacency: dict[Identifier, set[Identifier]] = defaultdict(set)
    times: dict[tuple[Identifier, Identifier], tuple[int, int]] = {}
    for link in links:
        a, b = link.a, link.b
        if (
            a.type not in IDENTITY_TYPES
            or b.type not in IDENTITY_TYPES
            or a in blocked
            or b in blocked
        ):
            continue
        adjacency[a].add(b)
        adjacency[b].add(a)
        for x, y in ((a, b), (b, a)):
            first, last = times.get((x, y), (link.first, link.last))
            times[(x, y)] = (min(first, link.first), max(last, link.last))
    gap = gap_days * DAY_MS
    found: set[Identifier] = set()
    for x in sorted(adjacency):
        if x.type not in RECYCLABLE_TYPES or len(adjacency[x]) < 2:
            continue
        groups = _groups_without(x, adjacency)
        if len(groups) < 2:
            continue
        spans = []
        for group in groups:
            periods = [times[(x, n)] for n in group]
            if any(first <= 0 for first, _ in periods):
                break
            spans.append((min(f for f, _ in periods), max(la for _, la in periods)))
        else:
            spans.sort()
            if all(later[0] - earlier[1] >= gap for earlier, later in pairwise(spans)):
                found.add(x)
    return found


def _groups_without(
    x: Identifier, adjacency: Mapping[Identifier, set[Identifier]]
) -> list[list[Identifier]]:
    """``x``'s neighbours grouped by the components they fall in once ``x`` is removed."""
    group_of: dict[Identifier, int] = {}
    groups: list[list[Identifier]] = []
    for start in sorted(adjacency[x]):
        if start in group_of:
            continue
        label = len(groups)
        groups.append([])
        stack, seen = [start], {start, x}
        while stack:
            node = stack.pop()
            if node in adjacency[x]:
                group_of[node] = label
                groups[label].append(node)
            for other in adjacency[node]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
    return groups


def quarantine(
    degrees: Mapping[Identifier, int],
    *,
    thresholds: Mapping[str, int] = DEFAULT_QUARANTINE,
    shared: Iterable[Identifier] = (),
    forced: Iterable[Identifier] = (),
    released: Iterable[Identifier] = (),
) -> set[Identifier]:
    """Identifiers to exclude from linking: over their type's threshold, ``shared``
    (see :func:`spanning`), or forced; never the ones a data engineer released."""
    chosen = {i for i, d in degrees.items() if i.type in thresholds and d > thresholds[i.type]}
    return (chosen | set(shared) | set(forced)) - set(released)
