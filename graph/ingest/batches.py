"""An ingest's store writes: a batch of events aggregated into the rows of one
atomic write (:func:`build_batch`, pure), and the writer that stores batches one after
the other (:class:`BatchWriter`, on the ingest's writer thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from graph.errors import ConstraintViolation, QueryError, StoreError, StoreUnavailable
from graph.ingest.events import Event, Identifier
from graph.store import GraphStore, ObservationBatch

__all__ = ["BatchWriter", "build_batch"]

logger = logging.getLogger(__name__)

#: attempts at writing one batch, and the pause before the n-th retry (n x this, seconds)
WRITE_ATTEMPTS = 4
RETRY_DELAY = 0.5


class BatchWriter:
    """Writes one ingest's batches, one after the other (on the writer thread).

    A batch's events are looked up in the store before it is written, as long as the
    last batch had some stored already (a replayed file, a client's retry, replays
    older than the IDs an ingest remembers): by the thread that builds the batch,
    which then builds it without them (``looked``), or else here. After one with
    none, the next is written without looking: the event-ID constraint refuses the
    whole write if any is stored, and only then is it looked up, rebuilt here and
    written again. A bulk ingest of new events saves a round trip on the writer's
    path a batch (measured in docs/benchmarks.md, Ingest throughput, 2026-12-05).
    """

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        #: look the next batch up before writing it (the first batch always is; read
        #: by the building thread as a hint, written by the writer thread)
        self.look_first = True
        #: the error of a batch that could not be written: the batches queued behind it
        #: are not written either (the ingest stops at the first failed batch)
        self.failed: BaseException | None = None

    def store_new(
        self, events: list[Event], batch: ObservationBatch, *, looked: bool = False,
        found: bool = False,
    ) -> list[str]:  # fmt: skip
        """Write the events the store does not have yet; returns the IDs written.
        ``looked``: the caller looked them up already (``found``: some were stored).

        If the write fails (store restarting, or another process storing the same
        events between our check and our write, which trips the unique
        constraint and rolls the whole batch back), check again and retry.
        """
        if self.failed is not None:
            raise StoreError("not written: an earlier batch of this ingest failed") from self.failed
        try:
            return self._store_new(events, batch, looked=looked, found=found)
        except BaseException as e:
            self.failed = e
            raise

    def _store_new(
        self, events: list[Event], batch: ObservationBatch, *, looked: bool, found: bool
    ) -> list[str]:
        look = self.look_first and not looked
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                if look:
                    events, stored = self.without_stored(events)
                    if stored:
                        found = True
                        batch = build_batch(events, mark_profiles=batch.mark_profiles)
                self.store.write_observations(batch)
                self.look_first = found
                return [event.event_id for event in events]
            except ConstraintViolation:
                if not look:  # written without looking: some were stored, look now
                    look = True
                    continue
                if attempt == WRITE_ATTEMPTS:
                    raise
                self._retry_later(attempt, "another writer stored some of its events first")
            except (StoreUnavailable, QueryError) as e:
                if attempt == WRITE_ATTEMPTS:
                    raise
                look = True
                self._retry_later(attempt, str(e))
        raise AssertionError("unreachable")

    def without_stored(self, events: list[Event]) -> tuple[list[Event], bool]:
        """``events`` without those the store has already, and whether it had any."""
        stored = self.store.existing_event_ids(event.event_id for event in events)
        if not stored:
            return events, False
        return [event for event in events if event.event_id not in stored], True

    @staticmethod
    def _retry_later(attempt: int, why: str) -> None:
        logger.warning("ingest batch failed (attempt %d), retrying: %s", attempt, why)
        time.sleep(RETRY_DELAY * attempt)


def build_batch(events: Sequence[Event], *, mark_profiles: bool = True) -> ObservationBatch:
    """Aggregate events into the rows of one store write (pure function).

    Identifiers seen in several events of the batch become one row each;
    identifier pairs one row each, with summed counts, the earliest/latest
    timestamps and the set of sources. Pairs
    are ordered (smaller key first) so each pair maps to a single edge.
    Cost: O(sum of k² over events), k = identifiers per event (bounded).
    ``mark_profiles``: see :attr:`graph.store.records.ObservationBatch.mark_profiles`.
    """
    identifiers: dict[Identifier, None] = {}
    edges: dict[tuple[Identifier, Identifier], _EdgeAgg] = {}
    batch = ObservationBatch(mark_profiles=mark_profiles)
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
