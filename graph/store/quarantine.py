"""Quarantine: the list of quarantined identifiers and the operators' overrides."""

from __future__ import annotations

import logging
from typing import Any

from graph.store.records import (
    Identifier,
)
from graph.store.runner import StoreRunner

logger = logging.getLogger(__name__)

__all__ = ["QuarantineRepository"]


class QuarantineRepository(StoreRunner):
    """Quarantine (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "quarantine_list",
        "quarantine_overrides",
        "set_quarantine_override",
    )

    def quarantine_overrides(self) -> dict[Identifier, str]:
        """The operators' overrides (kept by each process until one is set: every
        real-time update reads them under the resolution lock)."""
        return dict(self._cached("overrides", "", self._read_overrides))

    def _read_overrides(self) -> dict[Identifier, str]:
        return {Identifier(t, v): o for t, v, o in self._read("quarantine_overrides")}

    def set_quarantine_override(self, identifier: Identifier, override: str | None) -> bool:
        """``force``, ``release`` or ``None`` (clear). False if the identifier is unknown."""
        with self._changing("overrides"):
            rows = self._write(
                "set_quarantine_override",
                {"type": identifier.type, "value": identifier.value, "override": override},
            )
        return bool(rows and rows[0][0])

    def quarantine_list(self, limit: int = 1000) -> list[dict[str, Any]]:
        return [
            {
                "type": t,
                "value": v,
                "degree": int(d or 0),
                "quarantined": bool(q),
                "override": o,
            }
            for t, v, d, q, o in self._read("quarantine_list", {"limit": limit})
        ]
