"""Profile look-ups shared by the API and the CLI (plain dicts out)."""

from __future__ import annotations

from typing import Any

from graph.errors import IdentifierRejected, InputError, NotFound
from graph.events import Identifier, format_ts
from graph.identifiers import Registry
from graph.store import GraphStore, ProfileRecord

__all__ = ["get_profile", "lookup_identifier", "normalize_query"]


def normalize_query(registry: Registry, type_name: str, value: str) -> Identifier:
    """The identifier a caller means, normalized like ingested values."""
    try:
        return Identifier(type_name, registry.normalize(type_name, value))
    except IdentifierRejected as e:
        raise InputError(
            e.reason, field="type" if e.field == "type" else "value", value=value
        ) from e


def lookup_identifier(
    store: GraphStore, registry: Registry, type_name: str, value: str
) -> dict[str, Any]:
    """``{"identifier": …, "profile": …}`` for one identifier, or :class:`NotFound`."""
    identifier = normalize_query(registry, type_name, value)
    record = store.identifier(identifier)
    if record is None:
        raise NotFound(f"no {identifier.type} {_mask(identifier)} has been seen")
    if not registry[identifier.type].strong:
        raise NotFound(
            f"{identifier.type} is a weak identifier: evidence for links, never a profile member"
        )
    if record.profile_id is None:
        raise NotFound(
            f"{identifier.type} {_mask(identifier)} was ingested after the last resolve; "
            "run `idgraph resolve`"
        )
    profile = get_profile(store, registry, record.profile_id)
    return {"identifier": {"type": identifier.type, "value": identifier.value}, "profile": profile}


def get_profile(store: GraphStore, registry: Registry, profile_id: str) -> dict[str, Any]:
    record = store.profile(profile_id, weak_types=registry.weak_types)
    if record is None:
        raise NotFound(f"no profile {profile_id!r}")
    return profile_to_dict(record)


def profile_to_dict(record: ProfileRecord) -> dict[str, Any]:
    return {
        "profile_id": record.profile_id,
        "identifiers": [_times(i) for i in record.identifiers],
        "evidence": [_times(e) for e in record.evidence],
        "event_count": record.event_count,
        "first_seen": format_ts(record.first_seen),
        "last_seen": format_ts(record.last_seen),
        "sources": record.sources,
        "traits": record.traits,
        "created_at": format_ts(record.created_at),
        "updated_at": format_ts(record.updated_at),
    }


def _times(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "first_seen": format_ts(row.get("first_seen")),
        "last_seen": format_ts(row.get("last_seen")),
    }


def _mask(identifier: Identifier) -> str:
    """Enough of a value to recognise it, not enough to leak it in logs."""
    value = identifier.value
    if identifier.type == "email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return value[:3] + "***" if len(value) > 4 else "***"
