"""The store runner: named Cypher queries in, rows out.

The small part of the contract each backend implements (Splink's ``DatabaseAPI``
pattern): ``_read`` and ``_write`` run a named query from cypher/ with parameters,
plus schema, ping, close and describe. The repositories (one module per concept in
this package) build on these hooks; :class:`graph.store.GraphStore` is all of them.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple, TypeVar

from graph.store.queries import QueryLibrary
from graph.store.records import Identifier, Row

__all__ = [
    "CACHED_TOPICS",
    "INGEST_SEQUENCE",
    "LABELS",
    "RELATIONSHIPS",
    "SERVING_GENERATION",
    "VIEW_NEUTRAL",
    "Read",
    "StoreRunner",
    "Write",
    "chunks",
    "identifier_keys",
]

#: the Meta key of the serving generation: ready profile documents (graph.store.serving)
#: built under an older generation are not served
SERVING_GENERATION = "serving_generation"
#: the Meta key of the ingest sequence: each ingest batch takes the next number and
#: stamps its events with it (an incremental resolve reads what came after)
INGEST_SEQUENCE = "ingest_sequence"
#: write queries that change no profile as a look-up shows it: they leave the ready
#: documents valid. Every other write makes them all stale (the safe default for a
#: query added later), except inside :meth:`StoreRunner.profile_changes`, and
#: ``write_observations``, whose caller marks the profiles of its identifiers instead.
VIEW_NEUTRAL = frozenset({
    "add_tombstones", "bump_profile_revisions", "bump_profiles_of", "bump_serving_generation",
    "clear_ready_profiles", "delete_segment", "erasure_salt", "record_model_links",
    "clear_model_links", "revoke_api_key", "save_api_key", "save_ready_profile",
    "save_segment", "set_meta", "touch_api_key", "write_observations",
})  # fmt: skip

#: small records every request reads, cached per process while their revision is
#: unchanged (:meth:`StoreRunner._cached`): API keys, segment definitions, quarantine
#: overrides and the tombstones an ingest refuses
CACHED_TOPICS = ("keys", "segments", "overrides", "tombstones")
#: the longest a cached record is served without being read again, whatever the
#: revision says (a write made outside idgraph's own store methods)
CACHE_SECONDS = 10.0
#: records kept per topic at most (unknown keys are never kept)
CACHE_SIZE = 10_000

T = TypeVar("T")

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


class Read(NamedTuple):
    """A named read query and its parameters, for :meth:`StoreRunner._read_all`."""

    name: str
    params: Mapping[str, Any] | None = None


class Write(NamedTuple):
    """A named write query and its parameters, for :meth:`StoreRunner._write_all`."""

    name: str
    params: Mapping[str, Any] | None = None


class StoreRunner(ABC):
    """Runs named Cypher queries: the hooks every adapter implements (read, write,
    schema, ping, close, describe), and paging over a query."""

    backend: str = ""
    #: add type labels (``:Email``…) at resolve, for Neo4j Browser's style sheet.
    #: FalkorDB: off — adding a label to an existing node cost ~0.7 ms a node
    #: (43 s of a 49 s resolve on 10,000 persons), for a Neo4j-only feature.
    type_labels: bool = False
    #: whole-graph reads (profiles, weak observations) by ranges of internal node IDs
    #: (FalkorDB: a bounded scan each; by profile ID it scanned every profile after the
    #: cursor for each page, and one reply of every weak observation was held whole)
    pages_by_node_id: bool = False
    #: reads of many rows an identifier (its weak observations, its links) return one
    #: JSON text an identifier (FalkorDB: parsing their typed cells cost most of such a
    #: read; the ``_text`` queries in ``cypher/falkordb/``)
    rows_as_text: bool = False

    #: the Cypher files (cypher/) the runner itself runs
    QUERIES: tuple[str, ...] = (
        "bump_profile_revisions", "bump_serving_generation", "delete_all", "ping",
        "profile_id_range", "schema",
    )  # fmt: skip

    def __init__(self) -> None:
        self.queries = QueryLibrary(self.backend)
        self._scope = threading.local()
        self._cache: dict[tuple[str, str], tuple[int, float, Any]] = {}
        self._cache_lock = threading.Lock()

    @abstractmethod
    def _read(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        """Run the named read query; rows as sequences.

        ``text`` replaces the file's text for queries composed from a named
        template (segment conditions, see :meth:`QueryLibrary.compose`)."""

    @abstractmethod
    def _run_write(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        """Run the named write query atomically (retried on transient errors)."""

    def _read_all(self, reads: Sequence[Read]) -> list[list[Row]]:
        """Run several named read queries that do not depend on each other; their rows
        in the same order. Default: one after the other (FalkorDB sends them together)."""
        return [self._read(read.name, read.params) for read in reads]

    def _in_turn(self, reads: Iterable[Callable[[], T]]) -> Iterator[T]:
        """The results of ``reads`` (calls that read, none needing another's result), in
        order: the pages of a large read. Default: one after the other (FalkorDB reads
        the next page while the caller takes this one)."""
        for read in reads:
            yield read()

    def _encode_params(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """``params`` as the backend sends them, encoded now for a later query (the
        result is passed as that query's parameters). Default: as they are."""
        return params

    def _write(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        """Run the named write query; then, unless it is :data:`VIEW_NEUTRAL` or runs
        inside :meth:`profile_changes`, make every ready profile document stale."""
        rows = self._run_write(name, params, text=text)
        self._after_writes((name,))
        return rows

    def _write_all(self, writes: Sequence[Write]) -> list[list[Row]]:
        """Run several named write queries in this order, none needing another's rows;
        their rows in the same order, and the ready documents made stale as
        :meth:`_write` would (once). Not one transaction: a failure leaves the writes
        before it done (and, on FalkorDB, those after it), so callers use it where
        :meth:`profile_changes` (or a later resolve) repairs a partial write, as with
        one query after the other."""
        rows = self._run_write_all(writes)
        self._after_writes([w.name for w in writes])
        return rows

    def _after_writes(self, names: Iterable[str]) -> None:
        """Every ready profile document goes stale after writes of these queries,
        unless all are :data:`VIEW_NEUTRAL` or they ran inside :meth:`profile_changes`."""
        if (any(name not in VIEW_NEUTRAL for name in names)
                and getattr(self._scope, "changed", None) is None):  # fmt: skip
            self.expire_ready_profiles()

    def _run_write_all(self, writes: Sequence[Write]) -> list[list[Row]]:
        """Default: one after the other, stopping at the first failure (FalkorDB sends
        them together: one round trip, in which the store queues them behind other
        clients' queries once instead of once each)."""
        return [self._run_write(w.name, w.params) for w in writes]

    def expire_ready_profiles(self) -> None:
        """Make every ready profile document stale (rebuilt on its next look-up)."""
        self._run_write("bump_serving_generation", {"key": SERVING_GENERATION})

    @contextmanager
    def profile_changes(self) -> Iterator[set[str]]:
        """Writes in this block (this thread) change only the profiles the caller adds
        to the yielded set: their ready documents go stale when it ends, the others
        stay (the real-time path: a few profiles of a large graph)."""
        if getattr(self._scope, "changed", None) is not None:  # nested: the outer one marks
            yield self._scope.changed
            return
        changed: set[str] = set()
        self._scope.changed = changed
        try:
            yield changed
        except BaseException:  # written in part, who knows which: every document stale
            self._scope.changed = None
            self.expire_ready_profiles()
            raise
        self._scope.changed = None
        self.mark_profiles_changed(changed)

    def mark_profiles_changed(self, profile_ids: Iterable[str]) -> None:
        """Make the ready documents of these profiles stale."""
        for chunk in chunks(sorted(set(profile_ids)), 5000):
            self._run_write("bump_profile_revisions", {"profile_ids": chunk})

    def _revisions(self, topics: Sequence[str]) -> dict[str, int] | None:
        """The revisions of ``topics`` (of :data:`CACHED_TOPICS`), read together: bumped
        by every write of their records. None: this backend keeps none, nothing is
        cached."""
        return None

    def _bump_revision(self, topic: str) -> None:
        """After a write of ``topic``'s records: every process reads them again
        (nothing to do where nothing is cached)."""
        return None

    def begin_snapshot(self) -> None:
        """Until :meth:`end_snapshot` (this thread: one API request), the revisions
        of the cached records are read once, all together, at the first cached read:
        one round trip instead of one per topic. A write of cached records in between
        reads them again."""
        self._scope.revisions = {}

    def end_snapshot(self) -> None:
        self._scope.revisions = None

    def _revision(self, topic: str) -> int | None:
        snapshot: dict[str, int] | None = getattr(self._scope, "revisions", None)
        if snapshot is None:
            found = self._revisions((topic,))
            return None if found is None else found[topic]
        if not snapshot:
            snapshot.update(self._revisions(CACHED_TOPICS) or {})
        return snapshot.get(topic)

    def _bumped(self, topic: str) -> None:
        self._bump_revision(topic)
        if getattr(self._scope, "revisions", None):
            self._scope.revisions = {}  # read again at the next cached read

    @contextmanager
    def _changing(self, topic: str) -> Iterator[None]:
        """Writes of ``topic``'s records in this block: its revision is bumped after
        it, even when it fails half-way (every process reads them all again)."""
        try:
            yield
        finally:
            self._bumped(topic)

    def _cached(self, topic: str, key: str, load: Callable[[], T]) -> T:
        """``load()``, or what it returned before in this process while ``topic``'s
        revision has not moved (and for :data:`CACHE_SECONDS` at most). The revision
        is read *before* loading: a write that lands in between bumps it after, so
        the next call loads again. ``None`` is never kept (an unknown API key must
        not fill the cache)."""
        revision = self._revision(topic)
        if revision is None:
            return load()
        now = time.monotonic()
        with self._cache_lock:
            entry = self._cache.get((topic, key))
        if entry is not None and entry[0] == revision and now - entry[1] < CACHE_SECONDS:
            return entry[2]
        value = load()
        if value is not None:
            with self._cache_lock:
                if len(self._cache) >= CACHE_SIZE * len(CACHED_TOPICS):
                    self._cache.clear()
                self._cache[(topic, key)] = (revision, now, value)
        return value

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

    @abstractmethod
    def forget_deleted(self) -> dict[str, Any]:
        """Have the store's files on disk drop what was deleted before this call (an
        erasure): their logs of past writes still hold the values. Returns what was done
        (``rewritten``: the files, ``done``, ``detail``) for the erasure's answer; waits a
        bounded time."""

    def schema_statements(self) -> list[str]:
        """The backend's ``schema`` file: one statement a line."""
        return [line.strip() for line in self.queries["schema"].splitlines() if line.strip()]

    def _pages(self, name: str, params: Mapping[str, Any], page_size: int) -> Iterator[Row]:
        """Rows of a query over every profile, a page at a time: paged by profile ID
        (``$after``, ``$limit``; the first column is the ID, rows in ID order), or with
        :attr:`pages_by_node_id` by ranges of internal node IDs (``$low``, ``$high``),
        about ``page_size`` profiles a range, rows in ID order within each."""
        if self.pages_by_node_id:
            yield from self._node_id_pages(name, params, page_size)
            return
        after = ""
        while True:
            rows = self._read(name, {**params, "after": after, "limit": page_size})
            yield from rows
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def _node_id_pages(self, name: str, params: Mapping[str, Any], page_size: int,
                       *, ranged_by: str = "profile_id_range") -> Iterator[Row]:  # fmt: skip
        """Rows of ``name`` for nodes whose internal IDs are in ($low, $high], range by
        range (:meth:`_in_turn`: FalkorDB reads the next ranges while the caller takes
        this one's rows); ``ranged_by``: the query giving the nodes' lowest and highest
        ID and count (about ``page_size`` nodes a range)."""
        low, high, count = self._read(ranged_by)[0]
        if not count:
            return
        # their node IDs are spread among other nodes': a span holding about a page
        span = max(page_size, page_size * (int(high) - int(low) + 1) // int(count))
        starts = range(int(low) - 1, int(high), span)
        reads = (partial(self._read, name, {**params, "low": s, "high": s + span}) for s in starts)
        for rows in self._in_turn(reads):
            yield from rows

    def delete_all(self) -> None:
        """Remove every node and relationship (tests, demo reset)."""
        self._write("delete_all")
        for topic in CACHED_TOPICS:
            self._bumped(topic)


def identifier_keys(identifiers: Iterable[Identifier]) -> list[list[str]]:
    """Identifiers as ``[type, value]`` pairs: the parameter form of node keys."""
    return [[i.type, i.value] for i in identifiers]


def decoded_texts(rows: Iterable[Row]) -> Iterator[Any]:
    """The values of rows read as text (:attr:`StoreRunner.rows_as_text`): each row is
    (a JSON text, or null and the same value as typed cells where a string held a
    quote or a backslash, which the store's toJSON leaves unescaped)."""
    loads = json.JSONDecoder(strict=False).decode
    for text, typed in rows:
        yield loads(text) if text is not None else typed


def chunks(rows: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of at most ``size`` (one write query each)."""
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
