"""Segments (API and CLI): definitions kept in the graph, members found in the store."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from app.confidence import restrict_rows
from app.resources import Resources
from graph.errors import InputError, NotFound
from graph.ingest.events import format_ts, now_ms
from graph.ingest.identifiers import Registry
from graph.profiles.segments import Condition, compile_rule, rule_summary
from graph.store import GraphStore

__all__ = [
    "count_members",
    "create_segment",
    "delete_segment",
    "get_segment",
    "iter_members",
    "list_segments",
    "member_facts",
    "member_page",
    "member_sample",
    "segment_condition",
    "segments_of_profile",
    "update_segment",
]

logger = logging.getLogger(__name__)

#: profiles examined per store query while looking for members
SCAN_WINDOW = 5000
MAX_NAME = 200
MAX_DESCRIPTION = 2000


def create_segment(res: Resources, body: Mapping[str, Any]) -> dict[str, Any]:
    segment = _checked(res, body)
    segment["segment_id"] = "seg_" + uuid.uuid4().hex[:16]
    res.store.save_segment(segment, now=now_ms())
    return get_segment(res, segment["segment_id"])


def update_segment(res: Resources, segment_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    _stored(res, segment_id)
    segment = _checked(res, body)
    segment["segment_id"] = segment_id
    res.store.save_segment(segment, now=now_ms())
    return get_segment(res, segment_id)


def delete_segment(res: Resources, segment_id: str) -> None:
    if not res.store.delete_segment(segment_id):
        raise NotFound(f"no segment {segment_id!r}")


def get_segment(res: Resources, segment_id: str) -> dict[str, Any]:
    return _public(_stored(res, segment_id))


def list_segments(res: Resources) -> list[dict[str, Any]]:
    return [_public(s) for s in res.store.segments()]


def segment_condition(res: Resources, segment_id: str, *, now: int | None = None) -> Condition:
    """The stored rule compiled for a query made now (relative times resolved)."""
    segment = _stored(res, segment_id)
    return compile_rule(
        segment["rule"], strong_types=res.registry.strong_types, now=now or now_ms()
    )


def count_members(res: Resources, segment_id: str) -> dict[str, Any]:
    condition = segment_condition(res, segment_id)
    return {"segment_id": segment_id, "count": res.store.segment_count(condition)}


def member_page(
    res: Resources,
    segment_id: str,
    *,
    after: str = "",
    limit: int = 100,
    min_confidence: float = 0.0,
) -> dict[str, Any]:
    """Members in profile_id order after the cursor ``after``; ``next`` is the cursor
    of the following page (None at the end). Stable across pages: a profile's place
    is its ID."""
    condition = segment_condition(res, segment_id)
    ids: list[str] = []
    cursor, done = after, True
    for pid, member, last in _scan(res, condition, after, first=max(200, 20 * limit)):
        cursor = pid
        if member:
            ids.append(pid)
            if len(ids) == limit:
                done = last
                break
    rows = restrict_rows(res.store, res.resolve_settings(), res.store.member_rows(ids),
                         min_confidence)  # fmt: skip
    members = [_member(row) for row in rows]
    return {
        "segment_id": segment_id,
        "members": members,
        "next": None if done else cursor,
    }


def member_sample(res: Resources, segment_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """A few members, the first the store finds (a preview: not in any order, and
    cheap for a common segment where a page in ID order sorts every profile)."""
    ids = res.store.segment_sample(segment_condition(res, segment_id), limit)
    return [_member(row) for row in res.store.member_rows(sorted(ids))]


def iter_members(
    res: Resources, condition: Condition, *, page_size: int = 1000, min_confidence: float = 0.0
) -> Iterator[list[dict[str, Any]]]:
    """Members a page at a time (rows as :meth:`GraphStore.member_rows`, identifiers
    restricted to ``min_confidence``: :mod:`app.confidence`); memory holds one
    window, whatever the segment's size."""
    settings = res.resolve_settings()
    ids: list[str] = []
    for pid, member, _ in _scan(res, condition, ""):
        if member:
            ids.append(pid)
            if len(ids) >= page_size:
                yield restrict_rows(res.store, settings, res.store.member_rows(ids),
                                    min_confidence)  # fmt: skip
                ids = []
    if ids:
        yield restrict_rows(res.store, settings, res.store.member_rows(ids), min_confidence)


def member_facts(row: dict[str, Any]) -> dict[str, Any]:
    """The facts a member list and an export show, times as ISO 8601."""
    return {
        "first_seen": format_ts(row["first_seen"]),
        "last_seen": format_ts(row["last_seen"]),
        "event_count": row["event_count"],
        "purchase_count": row["purchase_count"],
        "purchase_total": row["purchase_total"],
        "last_purchase": format_ts(row["last_purchase"]),
        "rfm_group": row["rfm_group"],
    }


def _scan(
    res: Resources, condition: Condition, after: str, first: int = SCAN_WINDOW
) -> Iterator[tuple[str, bool, bool]]:
    """``(profile_id, member, last)`` for every profile after the cursor, in ID order;
    ``last``: no profile follows. Read ``first`` profiles at a time at first, four
    times more at each next read up to :data:`SCAN_WINDOW` (a short page of a common
    segment costs a short read: 10 members of a 10% segment, 200 profiles, not 5,000)."""
    cursor, size = after, max(1, min(first, SCAN_WINDOW))
    while True:
        window = res.store.segment_window(condition, after=cursor, scan=size)
        final = len(window) < size
        for n, (pid, member) in enumerate(window):
            yield pid, member, final and n == len(window) - 1
        if final:
            return
        cursor = window[-1][0]
        size = min(size * 4, SCAN_WINDOW)


def segments_of_profile(
    store: GraphStore, registry: Registry, profile_id: str
) -> list[dict[str, Any]]:
    """The segments an (active) profile is in now: ``[{segment_id, name}]``."""
    segments = store.segments()
    if not segments:
        return []
    now = now_ms()
    conditions, kept = [], []
    for n, segment in enumerate(segments):
        try:
            conditions.append(
                compile_rule(
                    segment["rule"],
                    strong_types=registry.strong_types,
                    now=now,
                    prefix=f"s{n}_",
                )
            )
            kept.append(segment)
        except InputError as e:  # e.g. an identifier type removed from the config
            logger.warning("segment %s no longer compiles: %s", segment["segment_id"], e)
    flags = store.segments_matching(profile_id, conditions)
    return [
        {"segment_id": s["segment_id"], "name": s["name"]}
        for s, inside in zip(kept, flags, strict=True)
        if inside
    ]


def _checked(res: Resources, body: Mapping[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InputError(f"a segment needs a name (1-{MAX_NAME} characters)", field="name")
    description = body.get("description") or ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise InputError(f"description: at most {MAX_DESCRIPTION} characters", field="description")
    if "rule" not in body:
        raise InputError("a segment needs a rule", field="rule")
    # validation: compiling reports the first mistake with its place in the rule
    compile_rule(body["rule"], strong_types=res.registry.strong_types, now=now_ms())
    return {"name": name.strip(), "description": description, "rule": body["rule"]}


def _stored(res: Resources, segment_id: str) -> dict[str, Any]:
    segment = res.store.segment(segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id!r}")
    return segment


def _public(segment: dict[str, Any]) -> dict[str, Any]:
    return {
        **segment,
        "summary": rule_summary(segment["rule"]),
        "created_at": format_ts(segment["created_at"]),
        "updated_at": format_ts(segment["updated_at"]),
    }


def _member(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile_id": row["profile_id"],
        "size": row["size"],
        "identifiers": [{"type": i["type"], "value": i["value"]} for i in row["identifiers"]],
        **member_facts(row),
        **({"confidence": row["confidence"]} if "confidence" in row else {}),
    }
