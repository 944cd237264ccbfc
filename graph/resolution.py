"""Deterministic resolution: strong-identifier links -> profiles with stable IDs."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from graph.clustering import assign_profile_ids, connected_components
from graph.events import Identifier
from graph.identifiers import Registry
from graph.store import GraphStore

__all__ = ["ResolveReport", "resolve"]

logger = logging.getLogger(__name__)


@dataclass
class ResolveReport:
    identifiers: int = 0
    links: int = 0
    profiles: int = 0
    largest_profile: int = 0
    moved: int = 0  #: identifiers whose profile changed (new ones included)
    profiles_deleted: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


def resolve(store: GraphStore, registry: Registry) -> ResolveReport:
    """Rebuild profiles as connected components of links between strong identifiers.

    Weak identifiers (``ip``) never link here. Only identifiers whose profile
    changes are written, and existing profile IDs are kept where the
    component still holds their members (see :func:`assign_profile_ids`).
    """
    started = time.perf_counter()
    strong = registry.strong_types
    nodes = store.identifiers_of_types(strong)
    links = store.links_between_types(strong)
    components = connected_components(nodes, links)
    current = store.assignments()
    ids = assign_profile_ids(components, current)
    moves: dict[Identifier, str] = {}
    for members, pid in zip(components, ids, strict=True):
        for member in members:
            if current.get(member) != pid:
                moves[member] = pid
    member_set = set(nodes)
    removals = [i for i in current if i not in member_set]
    deleted = store.apply_assignments(moves, removals, now=int(time.time() * 1000))
    store.label_identifier_types()
    report = ResolveReport(
        identifiers=len(nodes),
        links=len(links),
        profiles=len(components),
        largest_profile=len(components[0]) if components else 0,
        moved=len(moves),
        profiles_deleted=deleted,
        seconds=time.perf_counter() - started,
    )
    logger.info("resolve: %s", report.to_dict())
    return report
