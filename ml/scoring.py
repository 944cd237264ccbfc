"""The model's scores for every anonymous cluster's candidates, in two steps: the
candidates and their feature rows (:func:`candidate_rows`, no model needed: ``train``
makes them in another process while it fits the model, :mod:`ml.background`), then
their scores (:func:`scored`). :mod:`ml.linking` decides links from them.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from graph.ingest.events import Identifier
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES
from ml.browsers import chain_features
from ml.candidates import SingleEvidence, candidate_groups
from ml.evidence import (
    FEATURES,
    Evidence,
    IpStats,
    cluster_evidence,
    ip_degrees,
    pair_features,
    side,
    ua_surprisal,
    with_context,
)

if TYPE_CHECKING:
    from ml.model import LinkModel

__all__ = [
    "MODEL_FAMILIES",
    "CandidateRows",
    "Choices",
    "FamilyRows",
    "GraphEvidence",
    "Ranked",
    "Scored",
    "candidate_rows",
    "cluster_evidences",
    "graph_evidence",
    "scored",
    "scored_candidates",
]


def cluster_evidences(
    clusters: Sequence[Sequence[Identifier]], histories: Mapping[Identifier, Mapping[str, IpStats]]
) -> dict[int, Evidence]:
    """Each cluster's evidence, by its position."""
    return {
        n: cluster_evidence(members, histories, account_types=IDENTITY_TYPES)
        for n, members in enumerate(clusters)
    }


class GraphEvidence(NamedTuple):
    """What the features of any pair of clusters read: each cluster's evidence, each
    IP's device count and each user agent's rarity (:func:`graph_evidence`), and each
    cookie's or device's own evidence, made as pairs need it."""

    evidence: dict[int, Evidence]
    degrees: Mapping[str, int]
    agents: Mapping[str, float]
    singles: SingleEvidence


def graph_evidence(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    *,
    degrees: Mapping[str, int] | None = None,
) -> GraphEvidence:
    """:class:`GraphEvidence` of these clusters (``idgraph train`` computes it once
    for its queries and its decisions on the graph). ``degrees``: those of the IPs
    these clusters are not everyone seen at (a sample of the graph: :mod:`ml.sampling`)."""
    evidence = cluster_evidences(clusters, histories)
    counted = ip_degrees(evidence)
    for ip, degree in (degrees or {}).items():  # replaced (a Counter's update adds)
        counted[ip] = degree
    return GraphEvidence(evidence, counted, ua_surprisal(evidence),
                         SingleEvidence(histories, account_types=IDENTITY_TYPES))  # fmt: skip


@dataclass
class FamilyRows:
    """One family's candidates and their feature rows, before any model."""

    #: (query cluster, its candidates: clusters, or single devices as negative keys)
    order: list[tuple[int, list[int]]]
    rows: np.ndarray[Any, Any]  #: one row a candidate, in ``order``'s order
    pairs: int
    excluded: dict[str, int]


@dataclass
class CandidateRows:
    """Every family's candidate rows (:func:`candidate_rows`)."""

    families: list[tuple[str, FamilyRows]]
    #: the single devices among the candidates: key ``-1 - k`` -> the device
    singles: dict[int, Identifier]
    anonymous: int  #: anonymous clusters with weak evidence
    sampled: int  #: of which have candidates made


class Ranked:
    """Each query's candidates with their scores, appended query by query and read
    back in that order as (query, its candidates, their scores). Held in four flat
    arrays, 16 bytes a query and 16 a candidate, where a tuple, a list and an array a
    query took ~220 bytes: at 1M, where the model's families decide (over 0.6 million
    queries), ~100-150 MB of the peak (docs/benchmarks.md)."""

    __slots__ = ("_ends", "_options", "_queries", "_scores")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self) -> None:
        self._queries, self._ends, self._options = array("q"), array("q"), array("q")
        self._scores = array("d")

    def append(self, query: int, options: Sequence[int], scores: np.ndarray[Any, Any]) -> None:
        self._queries.append(query)
        self._options.extend(options)
        self._scores.frombytes(np.ascontiguousarray(scores, dtype=float).tobytes())
        self._ends.append(len(self._options))

    def __len__(self) -> int:
        return len(self._queries)

    def __iter__(self) -> Iterator[tuple[int, list[int], Sequence[float]]]:
        start = 0
        for query, end in zip(self._queries, self._ends, strict=True):
            yield query, self._options[start:end].tolist(), self._scores[start:end]
            start = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ranked):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)


@dataclass
class Choices:
    #: (query, its candidates, their scores); the device family: its best candidate alone
    ranked: Ranked
    pairs: int
    excluded: dict[str, int]


@dataclass
class Scored:
    """Every family's candidates with their scores."""

    families: list[tuple[str, Choices]]
    singles: dict[int, Identifier]  #: as :class:`CandidateRows`'
    anonymous: int
    sampled: int


#: the families the model scores: anonymous clusters against identified profiles, and
#: against single cookies and devices elsewhere (the browser family, ml.browsers, is a
#: rule whose precision is estimated from the data)
MODEL_FAMILIES = ("profile", "device")

#: the model scores :func:`scored_candidates`' rows this many at a time
CHUNK_ROWS = 100_000

#: one anonymous cluster's candidates: (the query, its candidates, their feature rows)
Group = tuple[int, list[int], list[list[float]]]


def _anonymous(
    shared: GraphEvidence, seed: int, sample: int | None, among: Collection[int] | None
) -> tuple[list[int], int]:
    """The anonymous clusters with weak evidence (of ``among``'s) that get candidates:
    at most ``sample`` of them, seeded by ``seed``; and how many there are."""
    anonymous = [n for n, ev in shared.evidence.items() if not ev.has_account and ev.ips
                 and (among is None or n in among)]  # fmt: skip
    total = len(anonymous)
    if sample is not None and total > sample:
        anonymous = sorted(random.Random(seed).sample(anonymous, sample))
    return anonymous, total


class _Candidates:
    """Every anonymous cluster's candidates in each family with their feature rows,
    made one cluster at a time: at a million identifiers there are millions of
    candidates, and their rows as lists of numbers took 12 GB."""

    def __init__(
        self,
        clusters: Sequence[Sequence[Identifier]],
        histories: Mapping[Identifier, Mapping[str, IpStats]],
        chains: Any,
        shared: GraphEvidence,
        anonymous: list[int],
        cap: int,
    ) -> None:
        self.shared, self.chains, self.anonymous, self.cap = shared, chains, anonymous, cap
        self.identified = [n for n, ev in shared.evidence.items() if ev.has_account]
        # single devices, keyed by negative numbers beside the clusters' own
        self.devices = sorted(m for members in clusters for m in members
                              if m.type in DEVICE_TYPES and m in histories)  # fmt: skip
        self.owner = {m: n for n, members in enumerate(clusters) for m in members}
        self.owner_of = {m: n for n in self.identified for m in clusters[n]}
        self.used: dict[int, Identifier] = {}  #: the single devices among the candidates
        self.pairs: dict[str, int] = {}  #: pairs found, by family, as groups are taken

    def _keyed(self, key: int) -> Evidence:  # a cluster's, or a single device's (-1 - k)
        if key >= 0:
            return self.shared.evidence[key]
        return self.shared.singles[self.devices[-1 - key]]

    def _ips_of(self, key: int) -> Iterable[str]:
        if key >= 0:
            return self.shared.evidence[key].ips
        return self.shared.singles.ips(self.devices[-1 - key])

    def groups(self, family: str) -> tuple[dict[str, int], Iterator[Group]]:
        """The IPs over the cap, and each query's candidates in ``family`` with their
        rows (``profile``: identified clusters; ``device``: single cookies and devices)."""
        targets = (self.identified if family == "profile"
                   else [-1 - k for k in range(len(self.devices))])  # fmt: skip
        excluded, found = candidate_groups(self.anonymous, targets, self.shared.evidence,
                                           self.shared.degrees, cap=self.cap,
                                           ips_of=self._ips_of)  # fmt: skip
        self.pairs[family] = 0
        return excluded, self._rows(family, found)

    def _rows(self, family: str, found: Iterator[tuple[int, list[int]]]) -> Iterator[Group]:
        _, degrees, agents, _ = self.shared
        for a, targets in found:
            self.pairs[family] += len(targets)
            options: list[int] = []
            rows: list[list[float]] = []
            query = side(self._keyed(a), degrees, self.cap)  # once for all its pairs
            for b in targets:
                if b < 0:
                    if self.owner[self.devices[-1 - b]] == a:
                        continue  # its own member
                    self.used[b] = self.devices[-1 - b]
                eb = self._keyed(b)
                chain = chain_features(query.evidence.members, eb.members, self.chains,
                                       self.owner_of)  # fmt: skip
                rows.append(pair_features(query, side(eb, degrees, self.cap), degrees,
                                          agents=agents, chain=chain))  # fmt: skip
                options.append(b)
            if options:
                yield a, options, with_context(rows)


def candidate_rows(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    chains: Any,
    shared: GraphEvidence,
    *,
    cap: int,
    seed: int = 0,
    sample: int | None = None,
    among: Collection[int] | None = None,
) -> CandidateRows:
    """Every anonymous cluster's candidates (of ``among``'s: at most ``sample`` of
    them, seeded by ``seed``), by family, with their feature rows. ``cap``: an IP seen
    with more clusters makes no candidates; ``chains``: the browser chains the chain
    features read (:func:`ml.browsers.browser_chains` at the narrowest home width)."""
    anonymous, total = _anonymous(shared, seed, sample, among)
    made = _Candidates(clusters, histories, chains, shared, anonymous, cap)
    families: list[tuple[str, FamilyRows]] = []
    for family in MODEL_FAMILIES:
        excluded, groups = made.groups(family)
        ((order, matrix),) = _in_chunks(groups, None)
        families.append((family, FamilyRows(order, matrix, made.pairs[family], excluded)))
    return CandidateRows(families, made.used, total, len(anonymous))


def scored(rows: CandidateRows, model: LinkModel) -> Scored:
    """``rows`` scored by ``model``."""
    families: list[tuple[str, Choices]] = []
    for family, made in rows.families:
        choices = Choices(Ranked(), made.pairs, made.excluded)
        _score_into(choices, made.order, made.rows, model, best_only=family == "device")
        families.append((family, choices))
    return Scored(families, rows.singles, rows.anonymous, rows.sampled)


def scored_candidates(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    chains: Any,
    shared: GraphEvidence,
    model: LinkModel,
    *,
    cap: int,
    chunk: int = CHUNK_ROWS,
) -> Scored:
    """:func:`scored` of every anonymous cluster's :func:`candidate_rows`, with the
    rows made and scored ``chunk`` at a time and only their scores kept: the same
    scores, in memory that does not grow with the candidates' features."""
    anonymous, total = _anonymous(shared, 0, None, None)
    made = _Candidates(clusters, histories, chains, shared, anonymous, cap)
    families: list[tuple[str, Choices]] = []
    for family in MODEL_FAMILIES:
        excluded, groups = made.groups(family)
        choices = Choices(Ranked(), 0, excluded)
        for order, matrix in _in_chunks(groups, chunk):
            _score_into(choices, order, matrix, model, best_only=family == "device")
        choices.pairs = made.pairs[family]
        families.append((family, choices))
    return Scored(families, made.used, total, len(anonymous))


def _in_chunks(
    groups: Iterator[Group], chunk: int | None
) -> Iterator[tuple[list[tuple[int, list[int]]], np.ndarray[Any, Any]]]:
    """The groups' queries with their candidates and their rows as one matrix, at
    least ``chunk`` rows at a time (the last fewer; ``None``: all in one)."""
    order: list[tuple[int, list[int]]] = []
    flat = array("d")  # the rows' numbers, 8 bytes each
    for a, options, rows in groups:
        order.append((a, options))
        for row in rows:
            flat.extend(row)
        if chunk is not None and len(flat) >= chunk * len(FEATURES):
            yield order, np.frombuffer(flat, dtype=float).reshape(-1, len(FEATURES))
            order, flat = [], array("d")
    yield order, np.frombuffer(flat, dtype=float).reshape(-1, len(FEATURES))


def _score_into(
    choices: Choices,
    order: Sequence[tuple[int, list[int]]],
    rows: np.ndarray[Any, Any],
    model: LinkModel,
    *,
    best_only: bool = False,
) -> None:
    """Each query's candidates with their scores (:class:`Ranked`). ``best_only``: its
    best candidate alone, the first of the highest (the device family links a query to
    its best candidate, ties to the lower index: :func:`ml.linking.decide` with no
    margin)."""
    flat = np.ascontiguousarray(model.predict_proba(rows)[:, 1] if len(rows) else np.zeros(0),
                                dtype=float)  # fmt: skip
    start = 0
    for a, options in order:
        scores = flat[start : start + len(options)]
        start += len(options)
        if best_only:
            k = int(np.argmax(scores))
            options, scores = [options[k]], scores[k : k + 1]
        choices.ranked.append(a, options, scores)
