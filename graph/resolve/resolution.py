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
from graph.profiles.refresh import refresh_facts
from graph.progress import Progress, no_progress
from graph.resolve.integrity import (
    ClusterResult,
    Conflict,
    Link,
    cluster,
    cluster_on,
    identity_degrees,
)
from graph.resolve.lineage import assign_ids_with_lineage
from graph.resolve.neighbourhood import blocked_among, neighbourhood, quarantine_kept
from graph.resolve.settings import ResolveSettings
from graph.store import GraphStore
from graph.store.records import KIND_RANK, Plan

__all__ = [
    "Clustering",
    "Decision",
    "Plan",
    "ResolveReport",
    "ResolveSettings",
    "clustering",
    "clustering_with",
    "decide",
    "plan",
    "planned",
    "resolve",
    "update_profiles",
]

logger = logging.getLogger(__name__)

#: the real-time path gives up (and says so) on neighbourhoods larger than this
MAX_REALTIME_COMPONENT = 20_000


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
    facts_refreshed: int = 0  #: profiles whose facts were refreshed ...
    facts_added: int = 0  #: ... of them, by adding their new events to the stored facts
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


@dataclass
class Clustering:
    """The merge-protected clusters of a scope and the quarantine they were made
    under (:func:`clustering`)."""

    scope: set[Identifier]
    degrees: Mapping[Identifier, int]  #: identity degree of each identifier linked
    blocked: set[Identifier]  #: quarantined (overrides forced: also outside the scope)
    result: ClusterResult

    @property
    def clusters(self) -> list[list[Identifier]]:
        return self.result.clusters

    @property
    def quarantined(self) -> set[Identifier]:
        """Quarantined identifiers of the scope."""
        return self.blocked & self.scope


def clustering(
    nodes: Iterable[Identifier],
    links: Sequence[Link],
    *,
    overrides: Mapping[Identifier, str],
    settings: ResolveSettings,
) -> Clustering:
    """Pure: the quarantine and the merge-protected clusters of ``nodes``."""
    scope = set(nodes)
    degrees = identity_degrees((link.a, link.b) for link in links)
    blocked = blocked_among(links, degrees, scope, settings, overrides, bridges=True)
    result = cluster(scope, links, limits=settings.limits, quarantined=blocked)
    return Clustering(scope, degrees, blocked, result)


def clustering_with(
    before: Clustering,
    links: Sequence[Link],
    added: Sequence[Link],
    *,
    overrides: Mapping[Identifier, str],
    settings: ResolveSettings,
) -> Clustering:
    """Pure: :func:`clustering` of ``before``'s nodes with ``links`` (``before``'s) and
    ``added`` (the model's). When ``added`` leaves the quarantine as it was (known
    without computing it again when :func:`~graph.resolve.neighbourhood.quarantine_kept`
    shows it) and all of them are applied after every one of ``links``
    (:meth:`Link.order_key`), the clustering resumes from ``before``
    (:func:`graph.resolve.integrity.cluster_on`): the same clusters and conflicts,
    without sorting and applying ``links`` again."""
    every = [*links, *added]
    degrees = identity_degrees((link.a, link.b) for link in every)
    if quarantine_kept(before.blocked, links, added, settings):  # most often: not again
        blocked = before.blocked
    else:
        blocked = blocked_among(every, degrees, before.scope, settings, overrides, bridges=True)
    last = max((KIND_RANK[link.kind] for link in links), default=-1)
    if blocked == before.blocked and all(KIND_RANK[link.kind] > last for link in added):
        result = cluster_on(before.result, added, limits=settings.limits, quarantined=blocked)
    else:
        result = cluster(before.scope, every, limits=settings.limits, quarantined=blocked)
    return Clustering(before.scope, degrees, blocked, result)


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
    clustered = clustering(nodes, links, overrides=overrides, settings=settings)
    return planned(clustered, current, created_at=created_at)


def planned(
    clustered: Clustering, current: Mapping[Identifier, str], *, created_at: Mapping[str, int]
) -> Plan:
    """Pure: the plan of a :func:`clustering` — profile IDs and lineage against the
    ``current`` assignments, moves, conflicts and quarantine."""
    scope, degrees, result = clustered.scope, clustered.degrees, clustered.result
    assignment = assign_ids_with_lineage(result.clusters, current, created_at=created_at)
    moves = {
        member: pid
        for members, pid in zip(result.clusters, assignment.ids, strict=True)
        for member in members
        if current.get(member) != pid
    }
    removals = [i for i in current if i not in scope]
    losing = {current[i] for i in [*moves, *removals] if i in current}
    changed = losing | set(moves.values())
    ids = zip(result.clusters, assignment.ids, strict=True)
    sizes = {pid: len(members) for members, pid in ids if pid in changed}
    return Plan(
        scope=scope,
        moves=moves,
        removals=removals,
        merged_into=assignment.merged_into,
        split_from=assignment.split_from,
        conflicts=result.conflicts,
        quarantined={i: degrees.get(i, 0) for i in clustered.quarantined},
        degrees={i: degrees.get(i, 0) for i in scope},
        clusters=result.clusters,
        losing=losing,
        sizes=sizes,
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
    facts_follow: tuple[int, int] | None = None,
) -> ResolveReport:
    """Rebuild every profile from the links between strong identifiers.

    Weak identifiers (``ip``) never link deterministically. With ``propose`` (the
    app passes the link model), the deterministic clusters are scored and the
    accepted model links join the clustering, after every deterministic link and
    under the same merge protection. Only changes are written. ``lock``
    serializes this with the real-time path (the app passes a Redis lock).

    Every profile's facts are computed from all its events, unless ``facts_follow``
    (``(since, until)``: the stored facts of profiles that kept their members count
    every event of batches up to ``since``; ``until``: the ingest sequence read before
    the graph): then only the profiles whose facts miss events of batches up to
    ``until`` or predate a change of their members, the new events added where the
    members did not change (:func:`graph.profiles.refresh.refresh_facts`).
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
    # Outside the lock (real-time updates go on meanwhile): facts are versioned.
    # Every profile (a bulk ingest since the last resolve may have added events to
    # any), or those whose facts are not current
    stale = store.stale_facts(*facts_follow) if facts_follow else store.active_profiles()
    refreshed = refresh_facts(store, stale, purchase_types=settings.purchase_types,
                              progress=progress, added=facts_follow,
                              recount=facts_follow is None)  # fmt: skip
    report = _report(decided, len(links), deleted, started)
    report.facts_refreshed, report.facts_added = refreshed.total, refreshed.added
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
    deterministic = clustering(nodes, links, overrides=overrides, settings=settings)
    if propose is None:
        return Decision(planned(deterministic, current, created_at=created_at), links, current)
    progress("link model", 0, None)
    proposal = propose(deterministic.clusters, deterministic.quarantined)
    modelled = clustering_with(deterministic, links, proposal.links, overrides=overrides,
                               settings=settings)  # fmt: skip
    del deterministic
    decided = planned(modelled, current, created_at=created_at)
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
    added: tuple[int, int] | None = None,
    unlocked: Callable[[], None] = lambda: None,
) -> ResolveReport | None:
    """Re-resolve the neighbourhood of ``touched`` identifiers (the real-time path,
    and the incremental resolve: :mod:`graph.resolve.changes`), and refresh the facts
    of the profiles it changed and of ``facts_of`` (profiles whose events changed).

    ``alone``: identifiers whose new events held no other strong identifier. One
    that is in a profile gained no link, so re-planning it changes nothing: only its
    profile's facts are refreshed; one in no profile yet is re-planned.
    ``added``: the ingest sequences ``(since, until)`` of the new events: profiles
    whose members did not change get them added to their facts
    (:func:`graph.profiles.refresh.refresh_facts`).
    ``unlocked``: called once the update's part under ``lock`` is over (or when it
    takes no lock), before the facts are refreshed (:mod:`app.realtime` starts the
    next update then).

    Returns ``None`` (and logs) when the neighbourhood is larger than ``max_scope``
    identifiers, or when there is nothing to do; the next full ``resolve`` handles it.
    """
    settings = settings or ResolveSettings()
    strong = set(registry.strong_types)
    seeds = {i for i in touched if i.type in strong}
    extra = set(facts_of)
    single = {i for i in alone if i.type in strong} - seeds
    if single:
        held = store.profiles_of(sorted(single))
        seeds |= single - held.keys()
        extra |= set(held.values())
    if not seeds and not extra:
        return None
    started = time.perf_counter()
    # only the profiles it changes lose their ready documents (graph.store.serving)
    with store.profile_changes() as changed:
        if not seeds:
            unlocked()
            changed.update(extra)
            refreshed = refresh_facts(
                store, extra, purchase_types=settings.purchase_types, added=added
            )
            return ResolveReport(facts_refreshed=refreshed.total, facts_added=refreshed.added,
                                 seconds=time.perf_counter() - started)  # fmt: skip
        return _update(store, seeds, strong, settings, lock, started, changed, max_scope,
                       extra, added, unlocked)  # fmt: skip


def _update(
    store: GraphStore, seeds: set[Identifier], strong: set[str], settings: ResolveSettings,
    lock: AbstractContextManager[Any] | None, started: float, changed: set[str],
    max_scope: int, extra: set[str], added: tuple[int, int] | None,
    unlocked: Callable[[], None],
) -> ResolveReport | None:  # fmt: skip
    with lock or contextlib.nullcontext():
        overrides = store.quarantine_overrides()
        scope = neighbourhood(store, seeds, sorted(strong), settings, overrides, max_scope)
        if scope is None:
            logger.warning("profile update skipped: neighbourhood over %d identifiers", max_scope)
            return None
        nodes, links, current, created_at, flagged, refused, _ = scope
        decided = plan(
            nodes, links, current, created_at=created_at, overrides=overrides, settings=settings
        )
        deleted = store.apply_plan(decided, now=now_ms(), full=False, flagged=flagged,
                                   refused=refused)  # fmt: skip
    unlocked()
    # the profiles of the new events, and every profile that gained or lost members
    # (not the whole neighbourhood: most of it changed neither members nor events).
    # Outside the lock, so updates do not queue behind each other's facts: facts are
    # versioned by the store time they were read, a stale write never wins.
    facts_of = _changed_profiles(decided, current, seeds) | extra
    changed.update(facts_of)
    refreshed = refresh_facts(store, facts_of, purchase_types=settings.purchase_types, added=added)
    report = _report(decided, len(links), deleted, started)
    report.facts_refreshed, report.facts_added = refreshed.total, refreshed.added
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
