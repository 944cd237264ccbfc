"""Resolution: strong-identifier links -> merge-protected profiles with stable IDs.

One planner serves the full rebuild (``resolve``) and the real-time path
(``update_profiles``, after ``POST /v1/events``): it takes identifiers, their
links and current assignments, and returns what to write. The real-time path
plans over the closed neighbourhood of the touched identifiers (everything
reachable through non-quarantined links, plus the current fellow members of
every profile reached), so it reaches exactly what a full rebuild would.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from graph.ingest.events import Identifier, now_ms
from graph.ingest.identifiers import Registry
from graph.profiles.facts import refresh_facts
from graph.progress import Progress, no_progress
from graph.resolve.integrity import (
    DEFAULT_HANDOVER_DAYS,
    DEFAULT_LIMITS,
    DEFAULT_QUARANTINE,
    Conflict,
    Link,
    assign_ids_with_lineage,
    bridging,
    cluster,
    handed_on,
    identity_degrees,
    quarantine,
    spanning,
)
from graph.store import GraphStore
from graph.store.records import IDENTITY_TYPES, Plan

__all__ = [
    "Decision",
    "Plan",
    "ResolveReport",
    "ResolveSettings",
    "decide",
    "plan",
    "resolve",
    "update_profiles",
]

logger = logging.getLogger(__name__)

#: the real-time path gives up (and says so) on neighbourhoods larger than this
MAX_REALTIME_COMPONENT = 20_000


@dataclass(frozen=True)
class ResolveSettings:
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    quarantine_thresholds: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_QUARANTINE)
    )
    #: quarantine devices, cookies, e-mails and phones linked to two user_ids/loyalty_ids
    quarantine_shared: bool = True
    #: a phone or e-mail used with one person, then with another this many days later
    #: or more, was handed on (a recycled number): it links neither
    handover_days: float = DEFAULT_HANDOVER_DAYS
    #: event types whose amounts are purchases (profile facts)
    purchase_types: tuple[str, ...] = ("purchase",)


@dataclass
class ResolveReport:
    #: "full", "incremental" or "unchanged" (graph/resolve/changes.py), and why
    mode: str = "full"
    reason: str = ""
    identifiers: int = 0
    links: int = 0
    profiles: int = 0
    largest_profile: int = 0
    moved: int = 0  #: identifiers whose profile changed (new ones included)
    merged: int = 0  #: profile IDs retired into another profile
    split: int = 0  #: new profiles split off an existing one
    conflicts: int = 0  #: links refused by merge limits or quarantine
    quarantined: int = 0
    profiles_deleted: int = 0
    facts_refreshed: int = 0  #: profiles whose facts were recomputed
    seconds: float = 0.0
    #: what the link model proposed and what was applied (None: no model)
    model: dict[str, Any] | None = None
    #: graph health after it, with alarms (recorded by the app; graph/resolve/health.py)
    health: dict[str, Any] | None = None
    #: households planned after it (by the app; graph/resolve/households.py)
    households: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


class Proposal(Protocol):
    links: list[Link]
    refused: list[Conflict]
    stats: dict[str, Any]
    version: str


#: (clusters, quarantined identifiers) -> the model's proposal
Proposer = Callable[[list[list[Identifier]], set[Identifier]], Proposal]


def plan(
    nodes: Iterable[Identifier],
    links: Sequence[Link],
    current: Mapping[Identifier, str],
    *,
    created_at: Mapping[str, int],
    overrides: Mapping[Identifier, str],
    settings: ResolveSettings,
) -> Plan:
    """Pure: decide clusters, IDs, lineage, conflicts and quarantine."""
    scope = set(nodes)
    degrees = identity_degrees((link.a, link.b) for link in links)
    blocked = _blocked(links, degrees, scope, settings, overrides, bridges=True)
    result = cluster(scope, links, limits=settings.limits, quarantined=blocked)
    assignment = assign_ids_with_lineage(result.clusters, current, created_at=created_at)
    moves = {
        member: pid
        for members, pid in zip(result.clusters, assignment.ids, strict=True)
        for member in members
        if current.get(member) != pid
    }
    return Plan(
        scope=scope,
        moves=moves,
        removals=[i for i in current if i not in scope],
        merged_into=assignment.merged_into,
        split_from=assignment.split_from,
        conflicts=result.conflicts,
        quarantined={i: degrees.get(i, 0) for i in blocked if i in scope},
        degrees={i: degrees.get(i, 0) for i in scope},
        clusters=result.clusters,
        previous=set(current.values()),
        model_links=[lk for lk in result.applied if lk.kind == "model"],
    )


def resolve(
    store: GraphStore,
    registry: Registry,
    settings: ResolveSettings | None = None,
    *,
    lock: AbstractContextManager[Any] | None = None,
    propose: Proposer | None = None,
    progress: Progress = no_progress,
) -> ResolveReport:
    """Rebuild every profile from the links between strong identifiers.

    Weak identifiers (``ip``) never link deterministically. With ``propose`` (the
    app passes the link model), the deterministic clusters are scored and the
    accepted model links join the clustering, after every deterministic link and
    under the same merge protection. Only changes are written. ``lock``
    serializes this with the real-time path (the app passes a Redis lock).
    """
    settings = settings or ResolveSettings()
    started = time.perf_counter()
    with lock or contextlib.nullcontext():
        decision = decide(store, registry, settings, propose=propose, progress=progress)
        decided, links = decision.plan, decision.links
        version, model_stats = decision.version, decision.model_stats
        progress("writing profiles", 0, None)
        deleted = store.apply_plan(decided, now=now_ms(), full=True)
        store.replace_model_links(decided.model_links, version=version, now=now_ms())
    # every profile: a bulk ingest since the last resolve may have added events to any.
    # Outside the lock (real-time updates go on meanwhile): facts are versioned.
    refreshed = refresh_facts(
        store, store.active_profiles(), purchase_types=settings.purchase_types, progress=progress
    )
    report = _report(decided, len(links), deleted, started)
    report.facts_refreshed = refreshed
    report.model = {**model_stats, "applied": len(decided.model_links)} if propose else None
    return report


@dataclass
class Decision:
    """What a full resolution would write, and what it was decided from."""

    plan: Plan
    links: list[Link]  #: the deterministic links read
    current: dict[Identifier, str]  #: assignments before
    version: str = ""  #: the link model's version ("" without one)
    model_stats: dict[str, Any] = field(default_factory=dict)


def decide(
    store: GraphStore,
    registry: Registry,
    settings: ResolveSettings,
    *,
    propose: Proposer | None = None,
    progress: Progress = no_progress,
) -> Decision:
    """Read the graph and plan a full resolution, without writing: shared by
    :func:`resolve` and the dry run (:mod:`graph.resolve.preview`)."""
    strong = registry.strong_types
    progress("reading the graph", 0, None)
    nodes = store.identifiers_of_types(strong)
    links = store.weighted_links(strong)
    current = store.assignments()
    created_at = store.active_profiles()
    overrides = store.quarantine_overrides()
    progress("planning profiles", 0, None)
    decided = plan(nodes, links, current, created_at=created_at, overrides=overrides,
                   settings=settings)  # fmt: skip
    if propose is None:
        return Decision(decided, links, current)
    progress("link model", 0, None)
    proposal = propose(decided.clusters, set(decided.quarantined))
    decided = plan(nodes, [*links, *proposal.links], current, created_at=created_at,
                   overrides=overrides, settings=settings)  # fmt: skip
    decided.conflicts.extend(proposal.refused)
    return Decision(decided, links, current, proposal.version, proposal.stats)


def update_profiles(
    store: GraphStore,
    registry: Registry,
    touched: Iterable[Identifier],
    settings: ResolveSettings | None = None,
    *,
    lock: AbstractContextManager[Any] | None = None,
    max_scope: int = MAX_REALTIME_COMPONENT,
    facts_of: Iterable[str] = (),
    alone: Iterable[Identifier] = (),
) -> ResolveReport | None:
    """Re-resolve the neighbourhood of ``touched`` identifiers (the real-time path,
    and the incremental resolve: :mod:`graph.resolve.changes`), and refresh the facts
    of the profiles it changed and of ``facts_of`` (profiles whose events changed).

    ``alone``: identifiers whose new events held no other strong identifier. One
    that is in a profile gained no link, so re-planning it changes nothing: only its
    profile's facts are refreshed; one in no profile yet is re-planned.

    Returns ``None`` (and logs) when the neighbourhood is larger than ``max_scope``
    identifiers, or when there is nothing to do; the next full ``resolve`` handles it.
    """
    settings = settings or ResolveSettings()
    strong = set(registry.strong_types)
    seeds = {i for i in touched if i.type in strong}
    extra = set(facts_of)
    single = {i for i in alone if i.type in strong} - seeds
    if single:
        held = {m: pid for m, pid, _ in store.members_of_profiles_of(sorted(single))
                if m in single}  # fmt: skip
        seeds |= single - held.keys()
        extra |= set(held.values())
    if not seeds and not extra:
        return None
    started = time.perf_counter()
    # only the profiles it changes lose their ready documents (graph.store.serving)
    with store.profile_changes() as changed:
        if not seeds:
            changed.update(extra)
            refreshed = refresh_facts(store, extra, purchase_types=settings.purchase_types)
            return ResolveReport(facts_refreshed=refreshed, seconds=time.perf_counter() - started)
        return _update(store, seeds, strong, settings, lock, started, changed, max_scope, extra)


def _update(
    store: GraphStore, seeds: set[Identifier], strong: set[str], settings: ResolveSettings,
    lock: AbstractContextManager[Any] | None, started: float, changed: set[str],
    max_scope: int, extra: set[str],
) -> ResolveReport | None:  # fmt: skip
    with lock or contextlib.nullcontext():
        overrides = store.quarantine_overrides()
        scope = _neighbourhood(store, seeds, sorted(strong), settings, overrides, max_scope)
        if scope is None:
            logger.warning("profile update skipped: neighbourhood over %d identifiers", max_scope)
            return None
        nodes, links, current, created_at = scope
        decided = plan(
            nodes, links, current, created_at=created_at, overrides=overrides, settings=settings
        )
        deleted = store.apply_plan(decided, now=now_ms(), full=False)
    # the profiles of the new events, and every profile that gained or lost members
    # (not the whole neighbourhood: most of it changed neither members nor events).
    # Outside the lock, so updates do not queue behind each other's facts: facts are
    # versioned by the store time they were read, a stale write never wins.
    facts_of = _changed_profiles(decided, current, seeds) | extra
    changed.update(facts_of)
    refreshed = refresh_facts(store, facts_of, purchase_types=settings.purchase_types)
    report = _report(decided, len(links), deleted, started)
    report.facts_refreshed = refreshed
    return report


def _changed_profiles(
    decided: Plan, current: Mapping[Identifier, str], seeds: Iterable[Identifier]
) -> set[str]:
    """Profiles whose facts a real-time update may change: those holding a seed (the
    identifiers of the new events) after the plan, and those that gained or lost
    members."""
    changed = set(decided.moves.values())
    changed |= {current[i] for i in decided.moves if i in current}
    changed |= {current[i] for i in decided.removals if i in current}
    for seed in seeds:
        pid = decided.moves.get(seed, current.get(seed))
        if pid is not None:
            changed.add(pid)
    return changed


def _neighbourhood(
    store: GraphStore,
    seeds: set[Identifier],
    strong: list[str],
    settings: ResolveSettings,
    overrides: Mapping[Identifier, str],
    max_scope: int,
) -> tuple[set[Identifier], list[Link], dict[Identifier, str], dict[str, int]] | None:
    """Everything a full resolve would consider together with ``seeds`` (None: more
    than ``max_scope`` identifiers)."""
    nodes = set(store.existing_identifiers(seeds))
    links: dict[tuple[Identifier, Identifier], Link] = {}
    current: dict[Identifier, str] = {}
    created_at: dict[str, int] = {}
    neighbours: dict[Identifier, set[Identifier]] = {}
    # identity identifiers linked to each node (integrity.identity_degrees), kept as
    # links arrive instead of recounted over all links at every step
    identities: dict[Identifier, set[Identifier]] = {}
    frontier = set(nodes)
    while frontier:
        if len(nodes) > max_scope:
            return None
        batch = sorted(frontier)
        found: set[Identifier] = set()
        # observation edges, then the model links accepted at the last full resolve
        # ("deterministic" sorts first: an observed pair keeps its deterministic link)
        for link in sorted(store.neighbourhood(batch, strong), key=lambda lk: lk.kind):
            neighbours.setdefault(link.a, set()).add(link.b)
            key = (link.a, link.b) if link.a < link.b else (link.b, link.a)
            if key not in links:
                links[key] = Link(key[0], key[1], link.kind, link.weight, link.first, link.last)
                if link.b.type in IDENTITY_TYPES:
                    identities.setdefault(link.a, set()).add(link.b)
                if link.a.type in IDENTITY_TYPES:
                    identities.setdefault(link.b, set()).add(link.a)
            found.add(link.b)
        for member, pid, created in store.members_of_profiles_of(batch):
            current[member] = pid
            created_at[pid] = created
            found.add(member)
        for node in batch:
            neighbours.setdefault(node, set())
        degrees = {n: len(identities.get(n, ())) for n in batch}
        blocked = _blocked(list(links.values()), degrees, set(batch), settings, overrides)
        # expand through identifiers that can link; a quarantined one links nothing
        expand = {b for n in batch if n not in blocked for b in neighbours[n]}
        expand |= {m for m in found if m in current}
        frontier = expand - nodes
        nodes |= frontier
    # every node in scope had all its links fetched, so its degree is exact, and
    # only quarantined nodes have neighbours outside the scope: their links never apply
    return nodes, list(links.values()), current, created_at


def _blocked(
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
    pairs = [(lk.a, lk.b) for lk in links if lk.a in among or lk.b in among]
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
        bridge = bridging([(lk.a, lk.b) for lk in links], blocked) & among
        blocked |= bridge - set(released)
    return blocked


def _report(decided: Plan, links: int, deleted: int, started: float) -> ResolveReport:
    report = ResolveReport(
        identifiers=len(decided.scope),
        links=links,
        profiles=len(decided.clusters),
        largest_profile=len(decided.clusters[0]) if decided.clusters else 0,
        moved=len(decided.moves),
        merged=len(decided.merged_into),
        split=len(decided.split_from),
        conflicts=len(decided.conflicts),
        quarantined=len(decided.quarantined),
        profiles_deleted=deleted,
        seconds=time.perf_counter() - started,
    )
    logger.info("resolve: %s", report.to_dict())
    return report
