"""Ingestion: raw records -> validated events -> batched, idempotent store writes.

One code path for the CLI (files), the API (a JSON batch) and jobs. Per batch:
parse and normalize every record, drop events whose ``event_id`` was seen
earlier in the input (the newest :data:`RECENT_EVENT_IDS` IDs are remembered) or
is already stored (duplicates), aggregate identifiers
and co-observation pairs, and write it all in one atomic query. Replaying any
input changes nothing: event IDs are checked before writing and unique in the
store, so a concurrent replay fails the constraint and is re-checked. Rejected
identifiers of an event that turns out to be a duplicate are not reported again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import IO, Any

from graph.errors import QueryError, StoreUnavailable
from graph.ingest.events import Event, Identifier, ParseResult, Reject, parse_event
from graph.ingest.identifiers import Registry
from graph.ingest.readers import RawRecord
from graph.ingest.tombstones import Tombstones
from graph.store import GraphStore, ObservationBatch

__all__ = ["IngestReport", "Ingester", "RejectFile", "build_batch"]

logger = logging.getLogger(__name__)

WRITE_ATTEMPTS = 4
RETRY_DELAY = 0.5


@dataclass
class IngestReport:
    """What one ingest did; counts are exact."""

    records: int = 0  #: non-blank lines / array items read
    accepted: int = 0  #: new events written
    duplicates: int = 0  #: events already stored, or repeated earlier in the same input
    rejected: int = 0  #: lines or events rejected whole
    rejected_parts: int = 0  #: identifiers or fields rejected inside accepted events
    rejects_path: Path | None = None
    #: the first rejects, for API responses (the file has all of them)
    rejects: list[Reject] = field(default_factory=list)
    seconds: float = 0.0
    #: identifiers of the accepted and duplicate events (only with ``collect_touched``)
    touched: set[Identifier] = field(default_factory=set)
    #: those of them seen together with another strong identifier in one of the events
    touched_together: set[Identifier] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_parts": self.rejected_parts,
            "rejects_path": str(self.rejects_path) if self.rejects_path else None,
            "seconds": round(self.seconds, 3),
        }


class RejectFile:
    """Rejects written as JSON Lines; the file is created at the first reject."""

    def __init__(self, path: Path, *, source: str) -> None:
        self.path = path
        self.source = source
        self._handle: IO[str] | None = None

    def line(self, reject: Reject) -> str:
        """One reject as the file holds it (a JSON line)."""
        return json.dumps({"source": self.source, **reject.to_dict()}) + "\n"

    def write(self, reject: Reject) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(self.line(reject))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    @property
    def written(self) -> bool:
        return self.path.exists()


#: event IDs an ingest remembers (about 10 MB): a replay of one of them is dropped
#: while parsing. One found only by the store's check makes the writer thread rebuild
#: its whole batch (22 of 23 batches of a 1,500-person generated file held a replay)
RECENT_EVENT_IDS = 100_000


class _RecentIds:
    """The newest ``limit`` event IDs of one ingest (a set with a first-in, first-out
    bound)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._ids: set[str] = set()
        self._order: deque[str] = deque()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def add(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            if event_id not in self._ids:
                self._ids.add(event_id)
                self._order.append(event_id)
        while len(self._order) > self.limit:
            self._ids.discard(self._order.popleft())


class Ingester:
    """Writes events into one store, ``batch_size`` events per atomic write.

    Parsing of batch N+1 overlaps the store check and write of batch N (one
    batch in flight, on a writer thread): the store works while Python parses.
    """

    def __init__(
        self,
        store: GraphStore,
        registry: Registry,
        *,
        batch_size: int = 2000,
        max_identifiers: int = 20,
        keep_rejects: int = 100,
        collect_touched: bool = False,
    ) -> None:
        self.store = store
        self.registry = registry
        self.batch_size = batch_size
        self.max_identifiers = max_identifiers
        self.keep_rejects = keep_rejects
        self.collect_touched = collect_touched
        self._tombstones: Tombstones | None = None

    def ingest_records(
        self,
        records: Iterable[RawRecord],
        *,
        rejects: RejectFile | None = None,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Ingest decoded lines (from :func:`graph.ingest.readers.read_records`)."""
        report = IngestReport(rejects_path=rejects.path if rejects else None)
        started = time.perf_counter()
        # erased values, once per run (an erasure during a long ingest applies to the next)
        self._tombstones = Tombstones.load(self.store)
        in_flight: _Pending | None = None
        recent = _RecentIds(RECENT_EVENT_IDS)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="idgraph-writer") as writer:
            try:
                for batch in _batched(records, self.batch_size):
                    pending = self._parse(batch, report, rejects, recent)
                    recent.add(pending.events)
                    # built here while the writer works on the previous batch; rebuilt
                    # there only if some of the events turn out to be stored already
                    events = pending.new_events()
                    prepared = build_batch(events)
                    if in_flight:
                        self._account(in_flight, report, rejects)
                        if on_batch:
                            on_batch(report)
                    pending.future = writer.submit(_store_new, self.store, events, prepared)
                    in_flight = pending
                if in_flight:
                    self._account(in_flight, report, rejects)
                    if on_batch:
                        on_batch(report)
            finally:
                if rejects:
                    rejects.close()
                report.seconds = time.perf_counter() - started
        if rejects and not rejects.written:
            report.rejects_path = None
        return report

    def ingest_objects(
        self, objects: Sequence[object], *, rejects: RejectFile | None = None
    ) -> IngestReport:
        """Ingest already decoded events (API); ``line`` in rejects is the 0-based index."""
        return self.ingest_records(
            (RawRecord(i, raw=obj) for i, obj in enumerate(objects)), rejects=rejects
        )

    # -- internals ---------------------------------------------------------
    def _parse(
        self,
        batch: list[RawRecord],
        report: IngestReport,
        sink: RejectFile | None,
        recent: _RecentIds,
    ) -> _Pending:
        pending = _Pending()
        for record in batch:
            report.records += 1
            if record.error is not None:
                reject = Reject(
                    record.error, line=record.line, event_id=record.event_id, whole_event=True
                )
                result = ParseResult(None, (reject,))
            else:
                result = parse_event(
                    record.raw,
                    self.registry,
                    line=record.line,
                    max_identifiers=self.max_identifiers,
                )
            if result.event is not None and self._tombstones:
                result = _without_erased(result, self._tombstones, record.line)
            if result.event is None:
                self._reject(result.rejects, report, sink, accepted=False)
            elif result.event.event_id in pending.events or result.event.event_id in recent:
                report.duplicates += 1  # repeated in this input: the first one wins
            else:
                pending.events[result.event.event_id] = result
        return pending

    def _account(self, pending: _Pending, report: IngestReport, sink: RejectFile | None) -> None:
        """Wait for a batch's write; count what was written and what was a duplicate."""
        assert pending.future is not None
        written = pending.future.result()
        report.accepted += len(written)
        report.duplicates += len(pending.events) - len(written)
        for event_id in written:
            self._reject(pending.events[event_id].rejects, report, sink, accepted=True)
        if self.collect_touched:
            # duplicates too: a client retrying after a failed profile update must
            # get its profiles updated, although its events are already stored
            for result in pending.events.values():
                if result.event is not None:
                    report.touched.update(result.event.identifiers)
                    strong = [i for i in result.event.identifiers
                              if self.registry[i.type].strong]  # fmt: skip
                    if len(strong) > 1:
                        report.touched_together.update(strong)

    def _reject(
        self,
        rejects: Iterable[Reject],
        report: IngestReport,
        sink: RejectFile | None,
        *,
        accepted: bool,
    ) -> None:
        for reject in rejects:
            # an event rejected whole counts once, whatever else was wrong with it
            if reject.whole_event:
                report.rejected += 1
            elif accepted:
                report.rejected_parts += 1
            if sink:
                sink.write(reject)
            if len(report.rejects) < self.keep_rejects:
                report.rejects.append(reject)


@dataclass
class _Pending:
    """One parsed batch on its way to the store."""

    events: dict[str, ParseResult] = field(default_factory=dict)
    future: Future[list[str]] | None = None

    def new_events(self) -> list[Event]:
        return [r.event for r in self.events.values() if r.event is not None]


def _store_new(store: GraphStore, events: list[Event], batch: ObservationBatch) -> list[str]:
    """Write the events the store does not have yet; returns the IDs written.

    If the write fails (store restarting, or another process storing the same
    events between our check and our write, which trips the unique
    constraint and rolls the whole batch back), check again and retry.
    """
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            stored = store.existing_event_ids(event.event_id for event in events)
            if stored:
                events = [event for event in events if event.event_id not in stored]
                batch = build_batch(events)
            store.write_observations(batch)
            return [event.event_id for event in events]
        except (StoreUnavailable, QueryError) as e:
            if attempt == WRITE_ATTEMPTS:
                raise
            logger.warning("ingest batch failed (attempt %d), retrying: %s", attempt, e)
            time.sleep(RETRY_DELAY * attempt)
    raise AssertionError("unreachable")


def _without_erased(result: ParseResult, tombstones: Tombstones, line: int) -> ParseResult:
    """Drop erased identifiers (or the whole event, if its ID was erased)."""
    event = result.event
    assert event is not None
    if tombstones.erased("event", event.event_id):
        reject = Reject("event was erased (right to be forgotten)", "event_id", event.event_id,
                        line, event.event_id, whole_event=True)  # fmt: skip
        return ParseResult(None, (reject,))
    kept = tuple(i for i in event.identifiers if not tombstones.erased(i.type, i.value))
    if len(kept) == len(event.identifiers):
        return result
    dropped = tuple(
        Reject(
            "erased identifier (right to be forgotten)",
            "identifiers.value",
            None,
            line,
            event.event_id,
            identifier_type=i.type,
        )
        for i in event.identifiers
        if i not in kept
    )
    if not kept:
        whole = Reject("no valid identifier", "identifiers", None, line, event.event_id,
                       whole_event=True)  # fmt: skip
        return ParseResult(None, (*result.rejects, *dropped, whole))
    return ParseResult(dataclasses.replace(event, identifiers=kept), (*result.rejects, *dropped))


def build_batch(events: Sequence[Event]) -> ObservationBatch:
    """Aggregate events into the rows of one store write (pure function).

    Identifiers seen in several events of the batch become one row each;
    identifier pairs one row each, with summed counts, the earliest/latest
    timestamps and the set of sources. Pairs
    are ordered (smaller key first) so each pair maps to a single edge.
    Cost: O(sum of k² over events), k = identifiers per event (bounded).
    """
    identifiers: dict[Identifier, None] = {}
    edges: dict[tuple[Identifier, Identifier], _EdgeAgg] = {}
    batch = ObservationBatch()
    for event in events:
        keys = event.identifiers  # distinct and sorted
        for key in keys:
            identifiers[key] = None
        for a, b in combinations(keys, 2):
            edge = edges.get((a, b))
            if edge is None:
                edges[(a, b)] = _EdgeAgg(event)
            else:
                edge.add(event)
        batch.events.append(
            {
                "event_id": event.event_id,
                "ts": event.ts,
                "source": event.source,
                "type": event.type,
                "user_agent": event.user_agent,
                "amount": event.amount,
                "currency": event.currency,
                "traits": event.traits_json,
                "properties": event.properties_json,
                "seen": [list(key) for key in keys],
            }
        )
    batch.identifiers = [{"type": t, "value": v} for t, v in identifiers]
    batch.edges = [edge.row(a, b) for (a, b), edge in edges.items()]
    return batch


class _EdgeAgg:
    __slots__ = ("count", "first", "last", "sources")

    def __init__(self, event: Event) -> None:
        self.count = 1
        self.first = self.last = event.ts
        self.sources = {event.source}

    def add(self, event: Event) -> None:
        self.count += 1
        self.first = min(self.first, event.ts)
        self.last = max(self.last, event.ts)
        self.sources.add(event.source)

    def row(self, a: tuple[str, str], b: tuple[str, str]) -> dict[str, Any]:
        return {
            "a_type": a[0],
            "a_value": a[1],
            "b_type": b[0],
            "b_value": b[1],
            "count": self.count,
            "first_seen": self.first,
            "last_seen": self.last,
            "sources": sorted(self.sources),
        }


def _batched(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
