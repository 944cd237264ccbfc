"""Erasure: tombstones and their salt, and the deletes and recounts erasure makes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from graph.store.records import (
    Identifier,
)
from graph.store.runner import StoreRunner, chunks, identifier_keys

logger = logging.getLogger(__name__)

__all__ = ["ErasureRepository"]


class ErasureRepository(StoreRunner):
    """Erasure (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "add_tombstones",
        "delete_events",
        "delete_identifiers",
        "delete_orphans",
        "delete_profiles",
        "erasure_salt",
        "events_of_identifiers",
        "recount_observations",
        "tombstones",
    )

    def erasure_salt(self, candidate: str) -> str:
        """The graph's tombstone salt (``candidate`` becomes it on first use)."""
        return str(self._write("erasure_salt", {"candidate": candidate})[0][0])

    def tombstones(self, salt_candidate: str) -> tuple[str, frozenset[str]]:
        """The tombstone salt and hashes (``""`` and none while nothing was erased;
        ``salt_candidate`` becomes the salt at the first erasure if none is set).
        Kept per process while no erasure adds any (:meth:`StoreRunner._cached`):
        every API request's ingest needs them, and in an API request reading whether
        they changed costs no round trip of its own."""

        def load() -> tuple[str, frozenset[str]]:
            hashes = frozenset(row[0] for row in self._read("tombstones"))
            # the salt (a MERGE, i.e. a write) only matters once something was erased
            return (self.erasure_salt(salt_candidate) if hashes else ""), hashes

        return self._cached("tombstones", "", load)

    def add_tombstones(self, hashes: Sequence[str], *, now: int) -> None:
        with self._changing("tombstones"):
            for chunk in chunks(hashes, 5000):
                self._write("add_tombstones", {"hashes": chunk, "now": now})

    def events_of_identifiers(
        self, identifiers: Iterable[Identifier]
    ) -> dict[str, list[Identifier]]:
        """event_id -> all identifiers of every event the given identifiers were seen in."""
        rows = self._read("events_of_identifiers", {"keys": identifier_keys(identifiers)})
        return {eid: [Identifier(t, v) for t, v in members] for eid, members in rows}

    def delete_events(self, event_ids: Sequence[str]) -> None:
        for chunk in chunks(event_ids, 5000):
            self._write("delete_events", {"ids": chunk})

    def delete_identifiers(self, identifiers: Iterable[Identifier]) -> None:
        for chunk in chunks(identifier_keys(identifiers), 5000):
            self._write("delete_identifiers", {"keys": chunk})

    def recount_observations(self, pairs: Iterable[tuple[Identifier, Identifier]]) -> None:
        rows = [[a.type, a.value, b.type, b.value] for a, b in pairs]
        for chunk in chunks(rows, 2000):
            self._write("recount_observations", {"pairs": chunk})

    def delete_orphans(self, identifiers: Iterable[Identifier]) -> int:
        total = 0
        for chunk in chunks(identifier_keys(identifiers), 5000):
            total += int(self._write("delete_orphans", {"keys": chunk})[0][0])
        return total

    def delete_profiles(self, profile_ids: Sequence[str]) -> None:
        if profile_ids:
            self._write("delete_profiles", {"ids": list(profile_ids)})
