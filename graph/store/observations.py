"""Observations: events and the identifiers seen in them, observation edges, and
the weak evidence (IPs, user agents) the link model reads.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from graph.store.records import (
    Identifier,
    IdentifierRecord,
    Ingested,
    Link,
    ObservationBatch,
    Row,
)
from graph.store.runner import (
    INGEST_SEQUENCE,
    StoreRunner,
    chunks,
    decoded_texts,
    identifier_keys,
)

logger = logging.getLogger(__name__)

__all__ = ["ObservationRepository", "evidence_rows", "observations_of"]

#: identifiers whose weak observations are read in one query (FalkorDB)
OBSERVATION_PAGE = 20_000


class ObservationRepository(StoreRunner):
    """Observations (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "count_unresolved",
        "existing_events",
        "identifier",
        "identifiers_of_types",
        "links_between_types",
        "sample_identifiers",
        "weak_observations",
        "weak_observations_text",
        "identifier_id_range",
        "write_observations",
        "bump_profiles_of",
        "ingest_sequence",
        "ingested_since",
    )

    def existing_event_ids(self, event_ids: Iterable[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        return {row[0] for row in self._read("existing_events", {"ids": ids})}

    def prepare_observations(self, batch: ObservationBatch) -> ObservationBatch:
        """Encode the parameters of ``batch``'s write ahead of
        :meth:`write_observations`, e.g. on another thread than the writer's (FalkorDB's
        parameter text is about a quarter of a bulk ingest's Python: built on the
        writer's thread, the store waits for it). Returns ``batch``."""
        batch.encoded = [self._encode_params(p) for p in self._observation_params(batch)]
        return batch

    def write_observations(self, batch: ObservationBatch) -> None:
        """Write one batch; the ready documents of the profiles its identifiers belong
        to go stale (:mod:`graph.store.serving`) unless ``batch.mark_profiles`` is off."""
        if batch.events:
            write, *bumps = batch.encoded or self._observation_params(batch)
            self._write("write_observations", write)
            for bump in bumps:
                self._run_write("bump_profiles_of", bump)

    @staticmethod
    def _observation_params(batch: ObservationBatch) -> list[Mapping[str, Any]]:
        """The parameters of a batch's write, then of its identifiers' profile marks."""
        keys = [[r["type"], r["value"]] for r in batch.identifiers] if batch.mark_profiles else []
        return [{**batch.params(), "sequence_key": INGEST_SEQUENCE}, *_mark_params(keys)]

    def mark_profiles_of(self, identifiers: Iterable[Identifier]) -> None:
        """Make the ready documents of the profiles these identifiers belong to stale
        (what :meth:`write_observations` does unless its batch says otherwise)."""
        for params in _mark_params(identifier_keys(identifiers)):
            self._run_write("bump_profiles_of", params)

    def ingest_sequence(self) -> int:
        """The sequence number of the last batch written (0: none yet). Every batch
        takes the next one in the same write and stamps its events with it."""
        rows = self._read("ingest_sequence", {"key": INGEST_SEQUENCE})
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def ingested_since(self, sequence: int, types: Sequence[str]) -> Ingested:
        """What the batches after ``sequence`` changed, for identifiers of ``types``:
        those to re-plan (new, or seen with another identifier of ``types``) and the
        profiles whose events changed."""
        rows = self._read("ingested_since", {"since": sequence, "types": list(types)})
        replan = [Identifier(t, v) for t, v, again, _ in rows if again]
        return Ingested(replan, {pid for *_, pid in rows if pid is not None}, len(rows))

    def identifiers_of_types(self, types: Sequence[str]) -> list[Identifier]:
        rows = self._read("identifiers_of_types", {"types": list(types)})
        return [Identifier(t, v) for t, v in rows]

    def weighted_links(self, types: Sequence[str]) -> list[Link]:
        """Deterministic links between identifiers of ``types``, weighted by co-observations,
        with the first and last time they were seen together."""
        rows = self._read("links_between_types", {"types": list(types)})
        return [
            Link(
                Identifier(at, av),
                Identifier(bt, bv),
                "deterministic",
                float(n or 1),
                int(first or 0),
                int(last or 0),
            )
            for at, av, bt, bv, n, first, last in rows
        ]

    def links_between_types(self, types: Sequence[str]) -> list[tuple[Identifier, Identifier]]:
        return [(link.a, link.b) for link in self.weighted_links(types)]

    def weak_observations(
        self, types: Sequence[str], weak: Sequence[str]
    ) -> list[tuple[Identifier, str, str | None, int]]:
        """(strong identifier, weak value, user agent, ts) for every event they shared."""
        return list(self.each_weak_observation(types, weak))

    def each_weak_observation(
        self, types: Sequence[str], weak: Sequence[str]
    ) -> Iterator[tuple[Identifier, str, str | None, int]]:
        """:meth:`weak_observations` one at a time, read a range of identifiers at a
        time on FalkorDB: a reader that keeps what it needs of them (``idgraph train``:
        the evidence they add up to) never holds them all (~110 bytes an observation:
        600 MB at a million identifiers). Python's cyclic collector is paused until the
        last one is taken (or the reader stops): millions of small objects, no cycle."""
        params = {"types": list(types), "weak": list(weak)}
        with _cycles_not_collected():
            yield from observations_of(self._weak_evidence(params))

    def _weak_evidence(
        self, params: Mapping[str, Any]
    ) -> Iterator[tuple[str, str, Iterable[Sequence[Any]]]]:
        """(type, value, its (weak value, user agent, ts) rows) of every strong identifier
        with weak evidence. FalkorDB: read by ranges of identifiers (its reply for a
        million identifiers is millions of rows), each identifier's one JSON text
        (cypher/falkordb/weak_observations_text.cypher)."""
        if not (self.pages_by_node_id and self.rows_as_text):  # the text query is ranged
            yield from evidence_rows(self._read("weak_observations", params), as_text=False)
            return
        pages = self._node_id_pages("weak_observations_text", params, OBSERVATION_PAGE,
                                    ranged_by="identifier_id_range")  # fmt: skip
        yield from evidence_rows(pages, as_text=True)

    def identifier(self, identifier: Identifier) -> IdentifierRecord | None:
        rows = self._read("identifier", {"type": identifier.type, "value": identifier.value})
        if not rows:
            return None
        first, last, count, pid, quarantined, degree = rows[0]
        return IdentifierRecord(
            identifier, first, last, int(count or 0), pid, bool(quarantined), int(degree or 0)
        )

    def count_unresolved(self, types: Sequence[str]) -> int:
        return int(self._read("count_unresolved", {"types": list(types)})[0][0])

    def sample_identifiers(self, type_name: str, limit: int = 3) -> list[str]:
        return [r[0] for r in self._read("sample_identifiers", {"type": type_name, "limit": limit})]


def evidence_rows(
    rows: Iterable[Row], *, as_text: bool
) -> Iterator[tuple[str, str, Iterable[Sequence[Any]]]]:
    """(type, value, its (weak value, user agent, ts) rows) of a weak observations
    read's rows: one JSON text an identifier (``as_text``: the ``_text`` queries), else
    a row an event."""
    if as_text:
        yield from decoded_texts(rows)
        return
    for t, v, w, ua, ts in rows:
        yield t, v, ((w, ua, ts),)


def observations_of(
    evidence: Iterable[tuple[str, str, Iterable[Sequence[Any]]]],
) -> Iterator[tuple[Identifier, str, str | None, int]]:
    """(strong identifier, weak value, user agent, ts) tuples of an evidence read's
    rows (type, value, its (weak value, user agent, ts) rows); one object for each
    identifier, IP and user agent however many events repeat it (the reply has a copy
    a row): a million identifiers' evidence held once."""
    identifiers: dict[tuple[str, str], Identifier] = {}
    strings: dict[str, str] = {}
    for t, v, seen in evidence:
        identifier = identifiers.get((t, v))
        if identifier is None:
            identifier = identifiers[(t, v)] = Identifier(t, v)
        for w, ua, ts in seen:
            yield (
                identifier,
                strings.setdefault(w, w),
                ua if ua is None else strings.setdefault(ua, ua),
                int(ts),
            )


@contextmanager
def _cycles_not_collected() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a bulk read builds millions of small
    objects, none in a reference cycle, and the collector would walk them again and
    again as they grow (10-18 s of a 50-58 s read of a million identifiers' weak
    observations). Process-wide while it lasts; restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _mark_params(keys: list[list[str]]) -> list[Mapping[str, Any]]:
    """The parameters of ``bump_profiles_of`` for these identifier keys, 5,000 a query."""
    return [{"keys": chunk} for chunk in chunks(keys, 5000)]
