"""The model's scores for every anonymous cluster's candidates, in two steps: the
candidates and their feature rows (:func:`candidate_rows`, no model needed: ``train``
makes them in another process while it fits the model, :mod:`ml.background`), then
their scores (:func:`scored`). :mod:`ml.linking` decides links from them.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from graph.ingest.events import Identifier
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES
from ml.browsers import chain_features
from ml.candidates import SingleEvidence, candidate_pairs
from ml.evidence import (
    FEATURES,
    Evidence,
    IpStats,
    cluster_evidence,
    features,
    ip_degrees,
    ua_surprisal,
    with_context,
)

if TYPE_CHECKING:
    from ml.model import LinkModel

__all__ = [
    "CandidateRows",
    "Choices",
    "FamilyRows",
    "GraphEvidence",
    "Scored",
    "candidate_rows",
    "cluster_evidences",
    "graph_evidence",
    "scored",
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


@dataclass
class Choices:
    ranked: list[tuple[int, list[int], list[float]]]  #: (query, candidates, their scores)
    pairs: int
    excluded: dict[str, int]


@dataclass
class Scored:
    """Every family's candidates with their scores."""

    families: list[tuple[str, Choices]]
    singles: dict[int, Identifier]  #: as :class:`CandidateRows`'
    anonymous: int
    sampled: int


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
    evidence, degrees, agents, singles = shared
    anonymous = [n for n, ev in evidence.items() if not ev.has_account and ev.ips
                 and (among is None or n in among)]  # fmt: skip
    total = len(anonymous)
    if sample is not None and total > sample:
        anonymous = sorted(random.Random(seed).sample(anonymous, sample))
    identified = [n for n, ev in evidence.items() if ev.has_account]
    # single devices, keyed by negative numbers beside the clusters' own
    devices = sorted(m for members in clusters for m in members
                     if m.type in DEVICE_TYPES and m in histories)  # fmt: skip
    owner = {m: n for n, members in enumerate(clusters) for m in members}
    owner_of = {m: n for n in identified for m in clusters[n]}

    def keyed(key: int) -> Evidence:  # a cluster's, or a single device's (-1 - k)
        return evidence[key] if key >= 0 else singles[devices[-1 - key]]

    def ips_of(key: int) -> Iterable[str]:
        return evidence[key].ips if key >= 0 else singles.ips(devices[-1 - key])

    families: list[tuple[str, FamilyRows]] = []
    used: dict[int, Identifier] = {}
    device_keys = [-1 - k for k in range(len(devices))]
    for family, targets in (("profile", identified), ("device", device_keys)):
        pairs, excluded = candidate_pairs(anonymous, targets, evidence, degrees,
                                          cap=cap, ips_of=ips_of)  # fmt: skip
        ranked: dict[int, list[tuple[int, list[float]]]] = {}
        for a, b in pairs:
            if b < 0:
                if owner[devices[-1 - b]] == a:
                    continue  # its own member
                used[b] = devices[-1 - b]
            ea, eb = keyed(a), keyed(b)
            chain = chain_features(ea.members, eb.members, chains, owner_of)
            row = features(ea, eb, degrees, cap=cap, agents=agents, chain=chain)
            ranked.setdefault(a, []).append((b, row))
        order = sorted(ranked)
        rows = [row for a in order for row in with_context([r for _, r in ranked[a]])]
        matrix = np.array(rows, dtype=float).reshape(-1, len(FEATURES))
        families.append((family, FamilyRows([(a, [b for b, _ in ranked[a]]) for a in order],
                                            matrix, len(pairs), excluded)))  # fmt: skip
    return CandidateRows(families, used, total, len(anonymous))


def scored(rows: CandidateRows, model: LinkModel) -> Scored:
    """``rows`` scored by ``model``."""
    families: list[tuple[str, Choices]] = []
    for family, made in rows.families:
        flat = model.predict_proba(made.rows)[:, 1] if len(made.rows) else np.zeros(0)
        choices = Choices([], made.pairs, made.excluded)
        start = 0
        for a, options in made.order:
            choices.ranked.append((a, options, flat[start : start + len(options)].tolist()))
            start += len(options)
        families.append((family, choices))
    return Scored(families, rows.singles, rows.anonymous, rows.sampled)
