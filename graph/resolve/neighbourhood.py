"""The closed neighbourhood of changed identifiers, and which of them may not link.

What the real-time path and the incremental resolve re-plan
(:func:`graph.resolve.resolution.update_profiles`): the identifiers a full resolve
would consider together with the seeds, read from the store round by round, each
round through the identifiers that can link; and the quarantine decision the
planner and this search share (:func:`blocked_among`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from graph.ingest.events import Identifier
from graph.resolve.integrity import (
    ACCOUNT_TYPES,
    Conflict,
    Link,
    bridging,
    handed_on,
    quarantine,
    spanning,
)
from graph.resolve.settings import ResolveSettings
from graph.store import GraphStore
from graph.store.records import IDENTITY_TYPES

__all__ = ["Scope", "blocked_among", "neighbourhood", "quarantine_kept"]


class Scope(NamedTuple):
    """What :func:`neighbourhood` found."""

    nodes: set[Identifier]
    links: list[Link]
    current: dict[Identifier, str]  #: profile of each node that has one
    created_at: dict[str, int]  #: of those profiles
    flagged: set[Identifier]  #: nodes flagged as quarantined in the store now
    refused: set[Conflict]  #: refused links touching the nodes, as stored now
    #: nodes whose links the search did not follow: quarantined by their own links
    #: (every other node's linked neighbours are in ``nodes``)
    blocked: set[Identifier]


def neighbourhood(
    store: GraphStore,
    seeds: set[Identifier],
    strong: list[str],
    settings: ResolveSettings,
    overrides: Mapping[Identifier, str],
    max_scope: int,
    *,
    deterministic: bool = False,
) -> Scope | None:
    """Everything a full resolve would consider together with ``seeds`` (None: more
    than ``max_scope`` identifiers), read in rounds of one store round trip each
    (:meth:`graph.store.GraphStore.scope_round`). ``deterministic``: only what the
    deterministic clustering considers together with them (observation edges; not
    the stored model links, nor the profiles of the last resolve): a sampled
    ``train``'s (:mod:`app.graph_sample`)."""
    nodes: set[Identifier] = set()
    flagged: set[Identifier] = set()
    refused: set[Conflict] = set()
    links: dict[tuple[Identifier, Identifier], Link] = {}
    current: dict[Identifier, str] = {}
    created_at: dict[str, int] = {}
    neighbours: dict[Identifier, set[Identifier]] = {}
    # identity identifiers linked to each node (integrity.identity_degrees), kept as
    # links arrive instead of recounted over all links at every step
    identities: dict[Identifier, set[Identifier]] = {}
    stopped: set[Identifier] = set()
    frontier = set(seeds)  # the first round also reads which of them exist
    while frontier:
        batch = sorted(frontier)
        read = store.scope_round(batch, strong, existing=not nodes, members=not deterministic)
        if deterministic:
            read.links = [lk for lk in read.links if lk.kind == "deterministic"]
        if read.existing is not None:  # the first round: the seeds that exist
            nodes = set(read.existing)
            batch = sorted(nodes)  # a seed that does not exist has no links, no profile
        if len(nodes) > max_scope:
            return None
        flagged.update(read.quarantined)
        refused.update(read.refused)
        found: set[Identifier] = set()
        # every link of the batch's identifiers (each comes back from the batch's side)
        touching: dict[tuple[Identifier, Identifier], Link] = {}
        # observation edges, then the model links accepted at the last full resolve
        # ("deterministic" sorts first: an observed pair keeps its deterministic link)
        ordered = read.links if deterministic else sorted(read.links, key=lambda lk: lk.kind)
        for link in ordered:
            neighbours.setdefault(link.a, set()).add(link.b)
            key = (link.a, link.b) if link.a < link.b else (link.b, link.a)
            if key not in links:
                links[key] = Link(key[0], key[1], link.kind, link.weight, link.first, link.last)
                if link.b.type in IDENTITY_TYPES:
                    identities.setdefault(link.a, set()).add(link.b)
                if link.a.type in IDENTITY_TYPES:
                    identities.setdefault(link.b, set()).add(link.a)
            touching.setdefault(key, links[key])
            found.add(link.b)
        for member, pid, created in read.members:
            current[member] = pid
            created_at[pid] = created
            found.add(member)
        for node in batch:
            neighbours.setdefault(node, set())
        degrees = {n: len(identities.get(n, ())) for n in batch}
        # the batch's own links: those of earlier rounds touching it came back again
        # (filtering all links found so far cost O(rounds x links))
        blocked = blocked_among(list(touching.values()), degrees, set(batch), settings, overrides)
        stopped |= blocked
        # expand through identifiers that can link; a quarantined one links nothing
        expand = {b for n in batch if n not in blocked for b in neighbours[n]}
        expand |= {m for m in found if m in current}
        frontier = expand - nodes
        nodes |= frontier
    # every node in scope had all its links fetched, so its degree is exact, and
    # only quarantined nodes have neighbours outside the scope: their links never apply
    return Scope(nodes, list(links.values()), current, created_at, flagged & nodes, refused,
                 stopped)  # fmt: skip


def blocked_among(
    links: Sequence[Link],
    degrees: Mapping[Identifier, int],
    among: set[Identifier],
    settings: ResolveSettings,
    overrides: Mapping[Identifier, str],
    *,
    bridges: bool = False,
) -> set[Identifier]:
    """Which of ``among`` are quarantined (their links must all be known).

    ``bridges`` adds devices and cookies that bridge two people (see
    :func:`graph.resolve.integrity.bridging`); that needs whole identity components, so
    the neighbourhood search leaves it out (its scope is then a superset, still
    closed) and only the planner applies it.
    """
    # whether a node spans two customers depends on its own links only, so links away
    # from ``among`` change nothing of ``spanning(pairs) & among`` (not filtered out:
    # every caller's links touch it, and the test cost a clustering of a million
    # identifiers 3 s)
    pairs = [(lk.a, lk.b) for lk in links]
    forced = [i for i, o in overrides.items() if o == "force"]
    released = [i for i, o in overrides.items() if o == "release"]
    blocked = quarantine(
        {n: degrees.get(n, 0) for n in among},
        thresholds=settings.quarantine_thresholds,
        shared=spanning(pairs) & among if settings.quarantine_shared else set(),
        forced=forced,
        released=released,
    )
    if bridges and settings.quarantine_shared:
        recycled = handed_on(links, blocked, gap_days=settings.handover_days) & among
        blocked |= recycled - set(released)
        bridge = bridging(pairs, blocked) & among
        blocked |= bridge - set(released)
    return blocked


def quarantine_kept(
    blocked: set[Identifier],
    links: Iterable[Link],
    added: Sequence[Link],
    settings: ResolveSettings,
) -> bool:
    """Whether adding ``added`` to ``links`` provably leaves their quarantine
    (:func:`blocked_among` with ``bridges``: ``blocked``) as it was — a sufficient
    test, a full resolve's check before it spares computing it again for the link
    model's links. True when no added link joins two identity identifiers (so the
    identity links that recycled numbers and shared devices are found from are the
    same, and no identity identifier's degree changes) and each device or cookie an
    added link ties to an identity identifier, not yet quarantined, is then linked to
    at most its type's
    threshold of identity identifiers, to at most one user_id and one loyalty_id
    (it spans nobody) and to at most one identity identifier that is not quarantined
    (it bridges nobody)."""
    # the devices and cookies that gain an identity neighbour (links between two
    # devices or cookies change nobody's identity neighbours)
    ends: dict[Identifier, set[Identifier]] = {}
    for link in added:
        identity_a, identity_b = link.a.type in IDENTITY_TYPES, link.b.type in IDENTITY_TYPES
        if identity_a and identity_b:
            return False
        if identity_a != identity_b:
            end = link.b if identity_a else link.a
            if end not in blocked:
                ends.setdefault(end, set())
    if not ends:
        return True
    for collection in (links, added):
        for link in collection:
            if link.a in ends and link.b.type in IDENTITY_TYPES:
                ends[link.a].add(link.b)
            if link.b in ends and link.a.type in IDENTITY_TYPES:
                ends[link.b].add(link.a)
    for end, identities in ends.items():
        limit = settings.quarantine_thresholds.get(end.type)
        if limit is not None and len(identities) > limit:
            return False
        accounts = [i.type for i in identities if i.type in ACCOUNT_TYPES]
        if len(accounts) != len(set(accounts)) or len(identities - blocked) > 1:
            return False
    return True
