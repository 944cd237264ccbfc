"""Households in the app: planned after every full resolve, read by the API.

The plan is :func:`graph.resolve.households.plan_households` (pure); this module
reads what it needs from the store and writes the result.
"""

from __future__ import annotations

from typing import Any

from app.profiles import follow_merges
from app.resources import Resources
from graph.errors import NotFound
from graph.ingest.events import format_ts, now_ms
from graph.resolve.households import plan_households
from graph.resolve.integrity import DEVICE_TYPES
from graph.store.records import Identifier

__all__ = ["get_household", "resolve_households"]


def resolve_households(
    res: Resources, observations: list[tuple[Identifier, str, str | None, int]] | None = None
) -> dict[str, int]:
    """Plan every household from the current profiles and write it; a summary.
    ``observations``: the weak observations when the caller has read them already."""
    store, registry = res.store, res.registry
    strong = registry.strong_types
    assignments = store.assignments()
    if observations is None:
        observations = store.weak_observations(strong, registry.weak_types)
    quarantined = [
        Identifier(q["type"], q["value"])
        for q in store.quarantine_list(limit=1_000_000)
        if q["quarantined"] and q["type"] in DEVICE_TYPES
    ]
    shared: dict[Identifier, list[Identifier]] = {}
    for link in store.neighbourhood(quarantined, sorted(strong)) if quarantined else []:
        if link.kind == "deterministic":
            shared.setdefault(link.a, []).append(link.b)
    current = store.current_households()
    plan = plan_households(assignments, observations, shared, current)
    retired = {
        hid: plan.merged_into.get(hid) for hid in set(current.values()) - set(plan.households)
    }
    store.write_households(plan.households, plan.devices, plan.homes, retired=retired,
                           split_from=plan.split_from, now=now_ms())  # fmt: skip
    return {
        "households": len(plan.households),
        "profiles_in_households": sum(len(p) for p in plan.households.values()),
        "shared_devices": sum(len(d) for d in plan.devices.values()),
    }


def get_household(res: Resources, household_id: str) -> dict[str, Any]:
    """A household: its profiles, shared devices and lineage. A retired ID answers
    with the household it was merged into, saying so (as profiles do)."""
    current = follow_merges(res.store.household, household_id, "household")
    record = res.store.household(current)
    if record is None:  # erased meanwhile
        raise NotFound(f"no household {household_id!r}")
    body: dict[str, Any] = {
        "household_id": current,
        "status": record.get("status") or "active",
        "size": len(record["profiles"]),
        "profiles": record["profiles"],
        "shared_devices": [{"type": d.type, "value": d.value} for d in record["devices"]],
        "homes": int(record.get("homes") or 0),
        "split_from": record.get("split_from"),
        "created_at": format_ts(record.get("created_at")),
        "updated_at": format_ts(record.get("updated_at")),
    }
    if current != household_id:
        body["requested_household_id"] = household_id
        body["merged_into"] = current
    return body
