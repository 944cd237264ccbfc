"""The reads of a sample of the graph: how many identifiers each IP was seen with,
everyone seen at chosen IPs, and the weak evidence of chosen identifiers
(``idgraph train`` above a size reads a sample of the graph, not all of it:
:mod:`app.graph_sample`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from graph.store.observations import evidence_rows, observations_of
from graph.store.records import Identifier, Row
from graph.store.runner import StoreRunner, chunks, identifier_keys

__all__ = ["SampleRepository"]

#: identifiers (or IPs) a query of these reads asks about
SAMPLE_PAGE = 5_000


class SampleRepository(StoreRunner):
    """Reads of a sample of the graph (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "count_identifiers_of_types",
        "identifiers_seen_with",
        "weak_agents_at",
        "weak_identifier_counts",
        "weak_observations_of",
        "weak_observations_of_text",
    )

    def count_identifiers_of_types(self, types: Sequence[str]) -> int:
        return int(self._read("count_identifiers_of_types", {"types": list(types)})[0][0])

    def weak_identifier_counts(
        self, types: Sequence[str], weak: Sequence[str], accounts: Sequence[str]
    ) -> dict[Identifier, tuple[int, int]]:
        """Every weak identifier (an IP) -> how many identifiers of ``types`` were seen
        with it (observation edges), and the most of any one type of ``accounts``."""
        params = {"types": list(types), "weak": list(weak), "accounts": list(accounts)}
        return {
            Identifier(wt, wv): (int(n), int(most))
            for wt, wv, n, most in self._read("weak_identifier_counts", params)
        }

    def identifiers_seen_with(
        self, weak: Iterable[Identifier], types: Sequence[str]
    ) -> dict[Identifier, list[Identifier]]:
        """Each of ``weak`` (IPs) -> the identifiers of ``types`` seen with it."""
        found: dict[Identifier, list[Identifier]] = {}
        for rows in self._keyed_pages("identifiers_seen_with", weak, {"types": list(types)}):
            for wt, wv, t, v in rows:
                found.setdefault(Identifier(wt, wv), []).append(Identifier(t, v))
        return found

    def weak_agents_at(
        self, weak: Iterable[Identifier], types: Sequence[str]
    ) -> list[tuple[str, Identifier, list[str | None]]]:
        """(weak value, identifier of ``types``, the user agents of the events they
        shared) for everyone seen at ``weak`` (IPs): who each IP was seen with, and with
        what, without their other events."""
        found: list[tuple[str, Identifier, list[str | None]]] = []
        for rows in self._keyed_pages("weak_agents_at", weak, {"types": list(types)}):
            found.extend((w, Identifier(t, v), list(agents)) for w, t, v, agents in rows)
        return found

    def weak_observations_of(
        self, identifiers: Iterable[Identifier], weak: Sequence[str]
    ) -> Iterator[tuple[Identifier, str, str | None, int]]:
        """(strong identifier, weak value, user agent, ts) for every event one of
        ``identifiers`` shared with a weak identifier of ``weak``: what
        :meth:`graph.store.GraphStore.each_weak_observation` reads for all of them.
        FalkorDB: an identifier's evidence as one JSON text (its typed cells were most
        of a whole read's time)."""
        params, as_text = {"weak": list(weak)}, self.rows_as_text
        if as_text:
            pages = self._keyed_pages("weak_observations_of_text", identifiers, params)
        else:
            pages = self._keyed_pages("weak_observations_of", identifiers, params)
        rows = (row for page in pages for row in page)
        yield from observations_of(evidence_rows(rows, as_text=as_text))

    def _keyed_pages(
        self, name: str, identifiers: Iterable[Identifier], params: Mapping[str, Any]
    ) -> Iterator[list[Row]]:
        """The rows of the named read for ``identifiers``, :data:`SAMPLE_PAGE` at a time
        (the store reads the next page while the caller takes this one)."""
        pages = chunks(identifier_keys(identifiers), SAMPLE_PAGE)
        return self._in_turn(partial(self._read, name, {**params, "keys": keys}) for keys in pages)
