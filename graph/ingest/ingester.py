"""Ingestion: raw records -> validated events -> batched, idempotent store writes.

One code path for the CLI (files), the API (a JSON batch) and jobs. Per batch:
parse and normalize every record, drop events whose ``event_id`` was seen
earlier in the input (graph/ingest/seen.py) or
is already stored (duplicates), aggregate identifiers
and co-observation pairs, and write it all in one atomic query. Replaying any
input changes nothing: event IDs are unique in the store, and a write holding a
stored one is refused whole, then looked up and written without it (see
:class:`graph.ingest.batches.BatchWriter` for when a batch is looked up first).
Rejected identifiers of an event that turns out to be a duplicate are not reported
again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from graph.ingest.batches import BatchWriter, build_batch
from graph.ingest.events import Event, Identifier, ParseResult, Reject, parse_event
from graph.ingest.identifiers import Registry
from graph.ingest.readers import RawRecord
from graph.ingest.seen import SeenEventIds
from graph.ingest.tombstones import Tombstones
from graph.store import GraphStore

__all__ = ["IngestReport", "Ingester", "RejectFile"]

logger = logging.getLogger(__name__)


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


#: event IDs an ingest remembers exactly (about 10 MB): a replay of one is dropped
#: while parsing ...
RECENT_EVENT_IDS = 100_000
#: ... and before them, as digests (16 bytes each: up to 160 MB): a replay of one is
#: dropped too (graph/ingest/seen.py). Beyond, a replay is found by the store only
OLDER_EVENT_IDS = 10_000_000


class Ingester:
    """Writes events into one store, ``batch_size`` events per atomic write.

    Parsing and encoding of batch N+1 overlap the write of batch N (on a writer
    thread), and N+1 waits queued behind N: the store works while Python parses.

    ``mark_profiles=False``: the writes leave the ready documents of their
    identifiers' profiles as they are; the caller updates those profiles right after
    and marks the ones it changes (the real-time path, app/collection.py).
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
        mark_profiles: bool = True,
    ) -> None:
        self.store = store
        self.registry = registry
        self.batch_size = batch_size
        self.max_identifiers = max_identifiers
        self.keep_rejects = keep_rejects
        self.collect_touched = collect_touched
        self.mark_profiles = mark_profiles
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
        seen = SeenEventIds(RECENT_EVENT_IDS, OLDER_EVENT_IDS)
        batch_writer = BatchWriter(self.store)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="idgraph-writer") as writer:
            try:
                for batch in _batched(records, self.batch_size):
                    pending = self._parse(batch, report, rejects, seen)
                    seen.add(pending.events)
                    # looked up (when the last batches had stored events), built and
                    # encoded here while the writer works on the previous batch
                    events = pending.new_events()
                    look, found = batch_writer.look_first, False
                    if look:
                        events, found = batch_writer.without_stored(events)
                    built = build_batch(events, mark_profiles=self.mark_profiles)
                    prepared = self.store.prepare_observations(built)
                    # queued behind the batch in flight, so the writer starts it as soon as
                    # that one is written, without waiting for this thread to take turns
                    pending.future = writer.submit(batch_writer.store_new, events, prepared,
                                                   looked=look, found=found)  # fmt: skip
                    if in_flight:
                        self._account(in_flight, report, rejects)
                        if on_batch:
                            on_batch(report)
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
        seen: SeenEventIds,
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
            elif result.event.event_id in pending.events or result.event.event_id in seen:
                report.duplicates += 1  # repeated in this input: the first one wins
            else:
                pending.events[result.event.event_id] = result
        for event_id in seen.older_among(list(pending.events)):
            del pending.events[event_id]  # a replay of an event older than the newest IDs
            report.duplicates += 1
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


def _batched(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
