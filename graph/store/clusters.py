"""What a picture of one profile needs: its timeline, the links resolution refused
around it, and which members its weak evidence (IPs) was seen with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph.store.records import Identifier
from graph.store.runner import StoreRunner

__all__ = ["ClusterRepository"]


class ClusterRepository(StoreRunner):
    """Reads around one profile (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "profile_evidence_links",
        "profile_refused_links",
        "profile_timeline",
    )

    def profile_timeline(self, profile_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The profile's most recent events, newest first."""
        return [
            {
                "event_id": eid,
                "ts": ts,
                "type": kind,
                "source": source,
                "amount": amount,
                "currency": currency,
            }
            for eid, ts, kind, source, amount, currency in self._read(
                "profile_timeline", {"profile_id": profile_id, "limit": limit}
            )
        ]

    def profile_refused_links(self, profile_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """Refused links from the profile's members, with the other side's state."""
        return [
            {
                "a": Identifier(at, av),
                "b": Identifier(bt, bv),
                "kind": kind,
                "reason": reason,
                "b_quarantined": bool(quarantined),
                "b_profile_id": other,
            }
            for at, av, bt, bv, kind, reason, quarantined, other in self._read(
                "profile_refused_links", {"profile_id": profile_id, "limit": limit}
            )
        ]

    def profile_evidence_links(
        self, profile_id: str, types: Sequence[str], limit: int = 500
    ) -> list[dict[str, Any]]:
        """Observation edges between the profile's members and weak identifiers."""
        return [
            {
                "member": Identifier(mt, mv),
                "weak": Identifier(wt, wv),
                "count": int(n or 0),
                "first_seen": first,
                "last_seen": last,
            }
            for mt, mv, wt, wv, n, first, last in self._read(
                "profile_evidence_links",
                {"profile_id": profile_id, "types": list(types), "limit": limit},
            )
        ]
