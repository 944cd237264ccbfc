"""The store runner: named Cypher queries in, rows out.

The small part of the contract each backend implements (Splink's ``DatabaseAPI``
pattern): ``_read`` and ``_write`` run a named query from cypher/ with parameters,
plus schema, ping, close and describe. The repositories (one module per concept in
this package) build on these hooks; :class:`graph.store.GraphStore` is all of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from graph.store.queries import QueryLibrary
from graph.store.records import Identifier, Row

__all__ = ["LABELS", "RELATIONSHIPS", "StoreRunner", "chunks", "identifier_keys"]

#: node labels and relationship types a query may name (never taken from input)
LABELS = (
    "Identifier", "Event", "Profile", "Tombstone", "Meta", "Segment", "ApiKey", "Household"
)  # fmt: skip
RELATIONSHIPS = (
    "OBSERVED_WITH",
    "SEEN_IN",
    "BELONGS_TO",
    "REFUSED",
    "MERGED_INTO",
    "SPLIT_FROM",
    "MODEL_LINK",
)


class StoreRunner(ABC):
    """Runs named Cypher queries: the hooks every adapter implements (read, write,
    schema, ping, close, describe), and paging over a query."""

    backend: str = ""
    #: add type labels (``:Email``…) at resolve, for Neo4j Browser's style sheet.
    #: FalkorDB: off — adding a label to an existing node cost ~0.7 ms a node
    #: (43 s of a 49 s resolve on 10,000 persons), for a Neo4j-only feature.
    type_labels: bool = False

    #: the Cypher files (cypher/) the runner itself runs
    QUERIES: tuple[str, ...] = ("delete_all", "ping", "schema")

    def __init__(self) -> None:
        self.queries = QueryLibrary(self.backend)

    @abstractmethod
    def _read(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        """Run the named read query; rows as sequences.

        ``text`` replaces the file's text for queries composed from a named
        template (segment conditions, see :meth:`QueryLibrary.compose`)."""

    @abstractmethod
    def _write(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
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

    def _pages(self, name: str, params: Mapping[str, Any], page_size: int) -> Iterator[Row]:
        """Rows of a query paged by profile ID (``$after``, ``$limit``; the first
        column is the ID, rows in ID order), a page at a time."""
        after = ""
        while True:
            rows = self._read(name, {**params, "after": after, "limit": page_size})
            yield from rows
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def delete_all(self) -> None:
        """Remove every node and relationship (tests, demo reset)."""
        self._write("delete_all")


def identifier_keys(identifiers: Iterable[Identifier]) -> list[list[str]]:
    """Identifiers as ``[type, value]`` pairs: the parameter form of node keys."""
    return [[i.type, i.value] for i in identifiers]


def chunks(rows: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of at most ``size`` (one write query each)."""
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
