"""Segments: saved rules, member windows and counts, membership of one profile."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from graph.store.records import (
    Condition,
    Row,
    json_object,
)
from graph.store.runner import StoreRunner

logger = logging.getLogger(__name__)

__all__ = ["SegmentRepository"]


class SegmentRepository(StoreRunner):
    """Segments (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "delete_segment",
        "profile_segments",
        "save_segment",
        "segment",
        "segment_count",
        "segment_member_rows",
        "segment_sample",
        "segment_window",
        "segments",
    )

    def segment_window(
        self, condition: Condition, *, after: str, scan: int
    ) -> list[tuple[str, bool]]:
        """``scan`` profiles after ``after`` (ID order), each with whether it is an
        active member; fewer than ``scan`` rows means the end was reached."""
        text = self.queries.compose("segment_window", condition.expression)
        rows = self._read(
            "segment_window", {**condition.params, "after": after, "scan": scan}, text=text
        )
        return [(pid, bool(member)) for pid, member in rows]

    def segment_sample(self, condition: Condition, limit: int) -> list[str]:
        """Up to ``limit`` active members, the first the store finds (a preview)."""
        text = self.queries.compose("segment_sample", condition.expression)
        params = {**condition.params, "limit": limit}
        return [str(r[0]) for r in self._read("segment_sample", params, text=text)]

    def segment_count(self, condition: Condition) -> int:
        text = self.queries.compose("segment_count", condition.expression)
        return int(self._read("segment_count", condition.params, text=text)[0][0])

    def segments_matching(self, profile_id: str, conditions: Sequence[Condition]) -> list[bool]:
        """For each condition (compiled with distinct prefixes), whether the profile meets it."""
        if not conditions:
            return []
        text = self.queries.compose("profile_segments", ", ".join(c.expression for c in conditions))
        params: dict[str, Any] = {"profile_id": profile_id}
        for c in conditions:
            params.update(c.params)
        rows = self._read("profile_segments", params, text=text)
        return [bool(v) for v in rows[0][0]] if rows else [False] * len(conditions)

    def member_rows(self, profile_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Profiles with their members and summary facts, in the order asked."""
        if not profile_ids:
            return []
        found = {}
        for row in self._read("segment_member_rows", {"ids": list(profile_ids)}):
            pid, size, first, last, events, purchases, total, last_purchase = row[:8]
            group, score, traits, household, members = row[8:]
            found[pid] = {
                "profile_id": pid,
                "size": int(size or 0),
                "first_seen": first,
                "last_seen": last,
                "event_count": int(events or 0),
                "purchase_count": int(purchases or 0),
                "purchase_total": float(total or 0.0),
                "last_purchase": last_purchase,
                "rfm_group": group,
                "rfm_score": score,
                "traits": json_object(traits),
                "household_id": household,
                "identifiers": sorted(
                    ({"type": t, "value": v, "quarantined": bool(q)} for t, v, q in members),
                    key=lambda i: (i["type"], i["value"]),
                ),
            }
        return [found[pid] for pid in profile_ids if pid in found]

    def save_segment(self, segment: Mapping[str, Any], *, now: int) -> int:
        """Create or replace a segment definition; returns its creation time."""
        params = {
            "segment_id": segment["segment_id"],
            "name": segment["name"],
            "description": segment.get("description") or "",
            "rule": json.dumps(segment["rule"], sort_keys=True),
            "now": now,
        }
        with self._changing("segments"):
            rows = self._write("save_segment", params)
        return int(rows[0][0])

    def segment(self, segment_id: str) -> dict[str, Any] | None:
        rows = self._read("segment", {"segment_id": segment_id})
        return _segment(rows[0]) if rows else None

    def segments(self) -> list[dict[str, Any]]:
        """Every segment definition (cached per process while none changes: every
        look-up evaluates them)."""
        kept = self._cached("segments", "", lambda: [_segment(r) for r in self._read("segments")])
        return [dict(segment) for segment in kept]

    def delete_segment(self, segment_id: str) -> bool:
        with self._changing("segments"):
            rows = self._write("delete_segment", {"segment_id": segment_id})
        return bool(rows and rows[0][0])


def _segment(row: Row) -> dict[str, Any]:
    segment_id, name, description, rule, created_at, updated_at = row
    return {
        "segment_id": segment_id,
        "name": name,
        "description": description or "",
        "rule": json.loads(rule),
        "created_at": created_at,
        "updated_at": updated_at,
    }
