"""Erasure requests (API and CLI): erase, tombstone, re-resolve what remains."""

from __future__ import annotations

from typing import Any

from app.erasure_files import scrub_files
from app.profiles import normalize_query
from app.resources import Resources
from graph.errors import NotFound
from graph.ingest.events import Identifier, now_ms
from graph.privacy import mask_value
from graph.resolve.erasure import erase_identifiers
from graph.resolve.resolution import update_profiles

__all__ = ["erase_identifier", "erase_profile"]


def erase_profile(res: Resources, profile_id: str) -> dict[str, Any]:
    """Erase every identifier of a profile, its events and its former (retired) IDs."""
    with res.resolve_lock():
        members = res.store.profile_member_keys(profile_id)
        if not members:
            raise NotFound(f"no active profile {profile_id!r}")
        former = res.store.retired_into(profile_id)  # before the profile node goes
        result = _erase(res, members, with_events=True)
        res.store.delete_profiles([*former, profile_id])
        result["profiles_deleted"] = sorted({*result["profiles_deleted"], profile_id, *former})
    result["store_files"] = res.store.forget_deleted()  # outside the lock: it waits
    return result


def erase_identifier(res: Resources, type_name: str, value: str) -> dict[str, Any]:
    """Forget one identifier value; the events it was in stay for the other identifiers.
    Its profile is re-resolved (it may split)."""
    identifier = normalize_query(res.registry, type_name, value)
    with res.resolve_lock():
        if res.store.identifier(identifier) is None:
            raise NotFound(f"no {identifier.type} identifier with that value has been seen")
        result = _erase(res, [identifier], with_events=False)
    result["store_files"] = res.store.forget_deleted()  # outside the lock: it waits
    return result


def _erase(res: Resources, identifiers: list[Identifier], *, with_events: bool) -> dict[str, Any]:
    report, touched = erase_identifiers(
        res.store, identifiers, now=now_ms(), with_events=with_events
    )
    resolved = update_profiles(res.store, res.registry, touched, res.resolve_settings())
    res.store.delete_profiles(report.profiles_deleted)  # no member left to re-resolve
    # the re-plan sizes the profiles whose members it moved; not those that only lost
    # the erased identifiers
    res.store.recount_profile_sizes(report.profiles_affected)
    body = report.to_dict()
    # masked: the answer travels through proxies, terminals and tickets; the values are gone
    body["identifiers"] = [
        {"type": i["type"], "value": mask_value(i["type"], i["value"])} for i in body["identifiers"]
    ]
    body["resolved"] = resolved.to_dict() if resolved else None
    body["files"] = scrub_files(res, identifiers)
    return body
