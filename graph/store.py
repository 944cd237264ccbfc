"""The store contract: the one interface ingest, resolution, API and CLI use.

Shared steps live in :class:`GraphStore` and run named Cypher queries through
two hooks, ``_read`` and ``_write``, that each backend adapter implements
(Splink's ``DatabaseAPI`` pattern). No caller knows which store it talks to.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.events import Identifier
from graph.queries import QueryLibrary

__all__ = [
    "GraphStore",
    "IdentifierRecord",
    "ObservationBatch",
    "ProfileRecord",
]

logger = logging.getLogger(__name__)

Row = Sequence[Any]
#: node labels and relationship types a query may name (never taken from input)
LABELS = ("Identifier", "Event", "Profile")
RELATIONSHIPS = ("OBSERVED_WITH", "SEEN_IN", "BELONGS_TO")


@dataclass
class ObservationBatch:
    """Rows for one atomic ingest write, de-duplicated and aggregated.

    Each event row carries ``seen``: the ``[type, value]`` keys of its
    identifiers, which become its SEEN_IN relationships.
    """

    identifiers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def params(self) -> dict[str, Any]:
        return {"identifiers": self.identifiers, "events": self.events, "edges": self.edges}

    @property
    def seen(self) -> int:
        """SEEN_IN relationships the batch creates."""
        return sum(len(e["seen"]) for e in self.events)

    @property
    def size(self) -> int:
        """Nodes and relationships the batch writes or updates."""
        return len(self.identifiers) + len(self.events) + self.seen + len(self.edges)


@dataclass(frozen=True)
class IdentifierRecord:
    identifier: Identifier
    first_seen: int | None
    last_seen: int | None
    event_count: int
    profile_id: str | None


@dataclass
class ProfileRecord:
    profile_id: str
    created_at: int | None
    updated_at: int | None
    identifiers: list[dict[str, Any]]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    event_count: int = 0
    first_seen: int | None = None
    last_seen: int | None = None
    sources: list[str] = field(default_factory=list)
    traits: dict[str, Any] = field(default_factory=dict)


class GraphStore(ABC):
    """What every graph store offers; adapters implement the hooks below."""

    backend: str = ""

    def __init__(self) -> None:
        self.queries = QueryLibrary(self.backend)

    # -- backend hooks ---------------------------------------------------
    @abstractmethod
    def _read(self, name: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run the named read query; rows as sequences."""

    @abstractmethod
    def _write(self, name: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run the named write query atomically (retried on transient errors)."""

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create constraints and indexes; safe to call any number of times."""

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the store answers."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, without credentials (for logs and ``/health``)."""

    def schema_statements(self) -> list[str]:
        """The backend's ``schema`` file: one statement a line."""
        return [line.strip() for line in self.queries["schema"].splitlines() if line.strip()]

    # -- ingest ----------------------------------------------------------
    def existing_event_ids(self, event_ids: Iterable[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        return {row[0] for row in self._read("existing_events", {"ids": ids})}

    def write_observations(self, batch: ObservationBatch) -> None:
        if batch.events:
            self._write("write_observations", batch.params())

    # -- resolution ------------------------------------------------------
    def identifiers_of_types(self, types: Sequence[str]) -> list[Identifier]:
        rows = self._read("identifiers_of_types", {"types": list(types)})
        return [Identifier(t, v) for t, v in rows]

    def links_between_types(self, types: Sequence[str]) -> list[tuple[Identifier, Identifier]]:
        rows = self._read("links_between_types", {"types": list(types)})
        return [(Identifier(at, av), Identifier(bt, bv)) for at, av, bt, bv in rows]

    def assignments(self) -> dict[Identifier, str]:
        return {Identifier(t, v): pid for t, v, pid in self._read("assignments")}

    def apply_assignments(
        self,
        moves: Mapping[Identifier, str],
        removals: Iterable[Identifier],
        *,
        now: int,
        batch_size: int = 5000,
    ) -> int:
        """Move identifiers to profiles, drop others from theirs, tidy up profiles.

        Returns the number of profiles deleted because they lost every member.
        """
        touched: set[str] = set(moves.values())
        rows = [{"type": i.type, "value": i.value, "profile_id": p} for i, p in moves.items()]
        for chunk in _chunks(rows, batch_size):
            self._write("assign_profiles", {"rows": chunk, "now": now})
        gone = [{"type": i.type, "value": i.value} for i in removals]
        for chunk in _chunks(gone, batch_size):
            self._write("unassign_profiles", {"rows": chunk})
        for ids in _chunks(sorted(touched), batch_size):
            self._write("update_profile_sizes", {"ids": ids})
        deleted = self._write("delete_empty_profiles")
        return int(deleted[0][0]) if deleted else 0

    def label_identifier_types(self) -> None:
        """Add type labels (``:Email``…) to identifiers that lack them (for Neo4j Browser)."""
        self._write("label_identifier_types")

    def identifier_labels(self, identifier: Identifier) -> list[str]:
        rows = self._read("identifier_labels", {"type": identifier.type, "value": identifier.value})
        return sorted(rows[0][0]) if rows else []

    def count_unresolved(self, types: Sequence[str]) -> int:
        return int(self._read("count_unresolved", {"types": list(types)})[0][0])

    # -- lookups ---------------------------------------------------------
    def identifier(self, identifier: Identifier) -> IdentifierRecord | None:
        rows = self._read("identifier", {"type": identifier.type, "value": identifier.value})
        if not rows:
            return None
        first, last, count, pid = rows[0]
        return IdentifierRecord(identifier, first, last, int(count or 0), pid)

    def profile(
        self, profile_id: str, *, weak_types: Sequence[str] = (), evidence_limit: int = 50
    ) -> ProfileRecord | None:
        members = self._read("profile_members", {"profile_id": profile_id})
        if not members:
            return None
        record = ProfileRecord(
            profile_id=profile_id,
            created_at=members[0][0],
            updated_at=members[0][1],
            identifiers=[
                {"type": t, "value": v, "first_seen": f, "last_seen": la, "event_count": n}
                for _, _, t, v, f, la, n in members
            ],
        )
        if weak_types:
            record.evidence = [
                {"type": t, "value": v, "count": int(n), "first_seen": f, "last_seen": la}
                for t, v, n, f, la in self._read(
                    "profile_evidence",
                    {"profile_id": profile_id, "types": list(weak_types), "limit": evidence_limit},
                )
            ]
        activity = self._read("profile_events", {"profile_id": profile_id})
        if activity:
            count, first, last, sources = activity[0]
            record.event_count = int(count or 0)
            record.first_seen, record.last_seen = first, last
            record.sources = sorted(s for s in sources or [] if s)
        for _, traits in reversed(
            self._read("profile_traits", {"profile_id": profile_id, "limit": 100})
        ):
            try:
                record.traits.update(json.loads(traits))
            except (TypeError, ValueError):
                logger.warning("profile %s: unreadable stored traits skipped", profile_id)
        return record

    def iter_profiles(self, *, page_size: int = 1000) -> Iterator[tuple[str, list[Identifier]]]:
        """Every profile with its members, in profile_id order, a page at a time."""
        after = ""
        while True:
            rows = self._read("profiles_page", {"after": after, "limit": page_size})
            for pid, members in rows:
                yield pid, sorted(Identifier(t, v) for t, v in members)
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def sample_identifiers(self, type_name: str, limit: int = 3) -> list[str]:
        return [r[0] for r in self._read("sample_identifiers", {"type": type_name, "limit": limit})]

    def stats(self) -> dict[str, int]:
        """Node counts by label and relationship counts by type."""
        counts = {label: 0 for label in (*LABELS, *RELATIONSHIPS)}
        identifiers, events, profiles = self._read("count_nodes")[0]
        counts.update(Identifier=int(identifiers), Event=int(events), Profile=int(profiles))
        for rel, n in self._read("count_relationships"):
            counts[str(rel)] = int(n)
        return counts

    def delete_all(self) -> None:
        """Remove every node and relationship (tests, demo reset)."""
        self._write("delete_all")


def _chunks(rows: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
