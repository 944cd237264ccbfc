"""Profile facts and RFM scores kept on profiles, and the last RFM run's summary."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from graph.store.metadata import MetadataRepository
from graph.store.records import Identifier, Purchaser, Row
from graph.store.runner import INGEST_SEQUENCE, chunks, identifier_keys

logger = logging.getLogger(__name__)

__all__ = ["FactRepository"]


class FactRepository(MetadataRepository):
    """Facts and RFM (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "clear_rfm",
        "fact_deltas",
        "fact_inputs",
        "identifier_fact_inputs",
        "purchasers",
        "stale_facts",
        "write_fact_deltas",
        "write_profile_facts",
        "write_rfm",
    )

    def fact_inputs(
        self, profile_ids: Sequence[str], purchase_types: Sequence[str], *, add: bool = False
    ) -> list[Row]:
        """Aggregated events of active profiles (rows for
        :func:`graph.profiles.facts.fact_input`, then the members version they were
        counted for, and with ``add``, for profiles whose stored facts can be added to,
        the sequence those count up to, their ``facts_at`` and the stored facts: only
        the later events are aggregated then; else three nulls)."""
        return self._read("fact_inputs", {
            "ids": list(profile_ids), "purchase_types": list(purchase_types),
            "sequence_key": INGEST_SEQUENCE, "add": add})  # fmt: skip

    def fact_inputs_in_turn(
        self, pages: Iterable[Sequence[str]], purchase_types: Sequence[str], *, add: bool = False
    ) -> Iterator[list[Row]]:
        """:meth:`fact_inputs` of each of ``pages`` (lists of profile IDs), in order;
        FalkorDB reads the next pages while the caller takes this one (a full resolve
        refreshes every profile's facts a page at a time, writing each page's before
        taking the next: its reads waited for each write, and the writes for them)."""
        reads = (partial(self.fact_inputs, page, purchase_types, add=add) for page in pages)
        return self._in_turn(reads)

    def stale_facts(self, since: int, until: int) -> list[str]:
        """Active profiles without facts, with facts older than their members, or
        missing events of ingest batches after ``since`` up to ``until``."""
        rows = self._read("stale_facts", {"since": since, "until": until})
        return sorted({pid for (pid,) in rows})

    def fact_deltas(self, since: int, until: int, purchase_types: Sequence[str]) -> list[Row]:
        """The events of ingest batches ``since`` (exclusive) to ``until`` aggregated per
        active profile whose stored facts they can be added to, with those facts (rows
        for :func:`graph.profiles.facts.added_facts`)."""
        return self._read("fact_deltas", {
            "since": since, "until": until, "purchase_types": list(purchase_types)})  # fmt: skip

    def identifier_fact_inputs(
        self, profile_id: str, identifiers: Iterable[Identifier], purchase_types: Sequence[str]
    ) -> list[Row]:
        """The events of some of a profile's identifiers, aggregated like
        :meth:`fact_inputs` (one row, or none when they were seen in no event)."""
        return self._read("identifier_fact_inputs", {
            "profile_id": profile_id, "keys": identifier_keys(identifiers),
            "purchase_types": list(purchase_types)})  # fmt: skip

    def write_profile_facts(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """``rows``: ``{"profile_id": …, "facts": {property: value}, "sequence": …,
        "members": …}`` (None removes; ``facts_at`` versions them: older facts than the
        stored ones are dropped; ``sequence``: the ingest sequence their events were
        counted up to; ``members``: the profile's members version they were counted
        for). Returns the number of profiles written."""
        written = 0
        for chunk in chunks(rows, 1000):
            result = self._write("write_profile_facts", {"rows": chunk})
            written += int(result[0][0]) if result else 0
        return written

    def write_fact_deltas(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """``rows``: ``{"profile_id", "facts", "sequence", "base_at", "base_sequence",
        "members"}``: written only where the stored facts are still those of
        ``base_at`` and ``base_sequence``, counted for the members version ``members``,
        and the members are still those. Returns the profiles written."""
        written: set[str] = set()
        for chunk in chunks(rows, 1000):
            written.update(pid for (pid,) in self._write("write_fact_deltas", {"rows": chunk}))
        return written

    def purchasers(
        self, *, as_of: int, purchase_types: Sequence[str], page_size: int = 5000
    ) -> list[Purchaser]:
        """Every active profile with a purchase up to ``as_of``, read a page at a time."""
        params = {"as_of": as_of, "purchase_types": list(purchase_types)}
        return [
            Purchaser(pid, int(last), int(n), float(total or 0.0))
            for pid, n, last, total in self._pages("purchasers", params, page_size)
            if n
        ]

    def write_rfm(
        self, rows: Sequence[Mapping[str, Any]], *, run: str, as_of: int, now: int
    ) -> None:
        for chunk in chunks(rows, 2000):
            self._write("write_rfm", {"rows": chunk, "run": run, "as_of": as_of, "now": now})

    def clear_rfm(self, *, run: str) -> int:
        rows = self._write("clear_rfm", {"run": run})
        return int(rows[0][0]) if rows else 0

    def set_rfm_summary(self, summary: Mapping[str, Any]) -> None:
        self.set_meta("rfm", dict(summary))

    def rfm_summary(self) -> dict[str, Any] | None:
        value = self.meta("rfm")
        return dict(value) if isinstance(value, dict) else None
