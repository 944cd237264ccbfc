"""Why an identifier belongs to its profile: the chain of links and what was refused."""

from __future__ import annotations

from collections import deque
from typing import Any

from app.profiles import normalize_query, resolve_profile_id
from graph.errors import InputError, NotFound
from graph.ingest.events import Identifier, format_ts
from graph.ingest.identifiers import Registry
from graph.resolve.lineage import ANCHOR_ORDER
from graph.store import GraphStore

__all__ = ["explain"]


def explain(
    store: GraphStore,
    registry: Registry,
    type_name: str,
    value: str,
    *,
    profile_id: str | None = None,
    event_samples: int = 3,
) -> dict[str, Any]:
    """The links from an identifier to its profile's strongest identifiers.

    Each link says its kind, its evidence (how often the two were seen
    together, first and last time, sources, a few event IDs) and its score
    (model links). ``refused`` lists the links resolution did not apply to this
    identifier, with the reason (merge limit or quarantine).
    """
    identifier = normalize_query(registry, type_name, value)
    record = store.identifier(identifier)
    if record is None:
        raise NotFound(f"no {identifier.type} identifier with that value has been seen")
    if profile_id is not None:
        wanted = resolve_profile_id(store, profile_id)
        if record.profile_id != wanted:
            raise InputError(
                f"this {identifier.type} is not in profile {profile_id!r}", field="value"
            )
    refused = store.refused_links_of(identifier)
    base: dict[str, Any] = {
        "identifier": {"type": identifier.type, "value": identifier.value},
        "profile_id": record.profile_id,
        # the household a shared device belongs to, or the one its profile shares a
        # home with (graph/resolve/households.py)
        "household_id": store.identifier_household(identifier)
        or (
            store.profile_properties(record.profile_id).get("household_id")
            if record.profile_id
            else None
        ),
        "quarantined": record.quarantined,
        "refused": refused,
    }
    if record.profile_id is None:
        return {**base, "anchor": None, "path": [], "reason": _no_profile_reason(record)}
    links = [
        {**lk, "kind": "deterministic", "score": None}
        for lk in store.profile_links(record.profile_id)
        if not lk["refused"]
    ] + [
        {**lk, "kind": "model", "count": 0, "first_seen": None, "last_seen": None, "sources": []}
        for lk in store.profile_model_links(record.profile_id)
    ]
    members = {lk["a"] for lk in links} | {lk["b"] for lk in links} | {identifier}
    anchor_type = next((t for t in ANCHOR_ORDER if any(m.type == t for m in members)), None)
    anchors = {m for m in members if m.type == anchor_type}
    path = _shortest_path(identifier, anchors, links)
    steps = []
    for a, b, link in path:
        deterministic = link["kind"] == "deterministic"
        steps.append(
            {
                "from": {"type": a.type, "value": a.value},
                "to": {"type": b.type, "value": b.value},
                "kind": link["kind"],
                "score": link["score"],
                "model_version": link.get("model_version"),
                "evidence": {
                    "count": link["count"],
                    "first_seen": format_ts(link["first_seen"]),
                    "last_seen": format_ts(link["last_seen"]),
                    "sources": sorted(link["sources"]),
                    "event_ids": store.shared_events(a, b, event_samples) if deterministic else [],
                },
            }
        )
    anchor = path[-1][1] if path else identifier
    reason = (
        f"it is the profile's strongest identifier ({identifier.type})"
        if not path
        else f"{len(path)} link(s) from it to the profile's {anchor.type}"
    )
    return {**base, "anchor": {"type": anchor.type, "value": anchor.value}, "path": steps,
            "reason": reason}  # fmt: skip


def _shortest_path(
    start: Identifier, targets: set[Identifier], links: list[dict[str, Any]]
) -> list[tuple[Identifier, Identifier, dict[str, Any]]]:
    """Breadth-first over applied links; deterministic links first, then by evidence."""
    if start in targets:
        return []
    adjacent: dict[Identifier, list[tuple[Identifier, dict[str, Any]]]] = {}
    for link in sorted(
        links, key=lambda lk: (lk["kind"] != "deterministic", -lk["count"], lk["a"], lk["b"])
    ):
        adjacent.setdefault(link["a"], []).append((link["b"], link))
        adjacent.setdefault(link["b"], []).append((link["a"], link))
    came_from: dict[Identifier, tuple[Identifier, dict[str, Any]]] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for other, link in adjacent.get(node, []):
            if other in seen:
                continue
            seen.add(other)
            came_from[other] = (node, link)
            if other in targets:
                steps = []
                while other != start:
                    previous, via = came_from[other]
                    steps.append((previous, other, via))
                    other = previous
                return steps[::-1]
            queue.append(other)
    return []


def _no_profile_reason(record: Any) -> str:
    if record.quarantined:
        return "quarantined: linked to too many customers' identifiers to link at all"
    return "not resolved yet"
