"""The reads of a sample of the graph: how many identifiers each IP was seen with,
everyone seen at chosen IPs, and the weak evidence of chosen identifiers
(``idgraph train`` above a size reads a sample of the graph, not all of it:
:mod:`app.graph_sample`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from graph.store.observations import observations_of
from graph.store.records import Identifier
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
        for keys in chunks(identifier_keys(weak), SAMPLE_PAGE):
            rows = self._read("identifiers_seen_with", {"keys": keys, "types": list(types)})
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
        for keys in chunks(identifier_keys(weak), SAMPLE_PAGE):
            rows = self._read("weak_agents_at", {"keys": keys, "types": list(types)})
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
        pages = chunks(identifier_keys(identifiers), SAMPLE_PAGE)
        yield from observations_of(row for keys in pages for row in self._evidence_of(keys, weak))

    def _evidence_of(
        self, keys: list[list[str]], weak: Sequence[str]
    ) -> Iterator[tuple[str, str, Iterable[Sequence[Any]]]]:
        params = {"keys": keys, "weak": list(weak)}
        if not self.pages_by_node_id:  # not FalkorDB: a row an event
            for t, v, w, ua, ts in self._read("weak_observations_of", params):
                yield t, v, ((w, ua, ts),)
            return
        loads = json.JSONDecoder(strict=False).decode
        for text, typed in self._read("weak_observations_of_text", params):
            yield loads(text) if text is not None else typed
