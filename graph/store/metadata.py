"""Metadata: small JSON values kept per graph, and node/relationship counts."""

from __future__ import annotations

import json
import logging
from typing import Any

from graph.store.runner import LABELS, RELATIONSHIPS, StoreRunner

logger = logging.getLogger(__name__)

__all__ = ["MetadataRepository"]


class MetadataRepository(StoreRunner):
    """Metadata (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "count_nodes",
        "count_quarantined",
        "count_relationships",
        "get_meta",
        "largest_profiles",
        "profile_sizes",
        "set_meta",
    )

    def set_meta(self, key: str, value: Any) -> None:
        """Keep a graph-wide JSON value (e.g. the last RFM run's summary)."""
        self._write("set_meta", {"key": key, "value": json.dumps(value, sort_keys=True)})

    def meta(self, key: str) -> Any:
        rows = self._read("get_meta", {"key": key})
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def stats(self) -> dict[str, int]:
        """Node counts by label and relationship counts by type."""
        counts = {label: 0 for label in (*LABELS, *RELATIONSHIPS)}
        counts.update(self.node_counts())
        for rel, n in self._read("count_relationships"):
            counts[str(rel)] = int(n)
        return counts

    def node_counts(self) -> dict[str, int]:
        """Identifier, Event and Profile nodes (cheaper than :meth:`stats`)."""
        identifiers, events, profiles = self._read("count_nodes")[0]
        return {"Identifier": int(identifiers), "Event": int(events), "Profile": int(profiles)}

    def profile_sizes(self) -> dict[int, int]:
        """Active profiles by size (members): size -> how many."""
        return {int(size): int(n) for size, n in self._read("profile_sizes")}

    def count_quarantined(self) -> int:
        rows = self._read("count_quarantined")
        return int(rows[0][0]) if rows else 0

    def largest_profiles(self, limit: int = 10) -> list[tuple[str, int]]:
        """(profile ID, members) of the largest active profiles, largest first."""
        return [(str(pid), int(size)) for pid, size in self._read("largest_profiles",
                                                                  {"limit": limit})]  # fmt: skip
