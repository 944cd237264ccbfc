"""Candidate pairs by blocking: clusters that share an IP few clusters use.

An IP seen with more than ``cap`` clusters (carrier NAT, café, office, VPN) makes
no candidates, and that decision is returned for the record. Candidates cost the
sum over usable IPs of (clusters on it)², bounded by ``cap``², so near-linear in
the data. Single cookies and devices are candidates too (the device family): their
own evidence is made when a pair needs it (:class:`SingleEvidence`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import TypeVar

from graph.ingest.events import Identifier
from ml.evidence import Evidence, IpStats, cluster_evidence

__all__ = ["SingleEvidence", "candidate_groups"]

K = TypeVar("K", bound=Hashable)


def candidate_groups(
    queries: Iterable[K],
    targets: Iterable[K],
    evidence: Mapping[K, Evidence],
    degrees: Mapping[str, int],
    *,
    cap: int,
    ips_of: Callable[[K], Iterable[str]] | None = None,
) -> tuple[dict[str, int], Iterator[tuple[K, list[K]]]]:
    """Each query's targets sharing an IP seen with at most ``cap`` clusters, made
    query by query (at a million identifiers the pairs are millions): the IPs left
    out for being over the cap, with their degree, and an iterator of (query, its
    targets) for every query with at least one, in the queries' order.
    ``ips_of``: each key's IPs (default: its evidence's), so that evidence can be
    made only for the pairs found (:class:`SingleEvidence`).
    """
    excluded = {ip: d for ip, d in degrees.items() if d > cap}
    ips = ips_of or (lambda key: evidence[key].ips)
    by_ip: dict[str, list[K]] = defaultdict(list)
    for target in targets:
        for ip in ips(target):
            if ip not in excluded:
                by_ip[ip].append(target)

    def groups() -> Iterator[tuple[K, list[K]]]:
        for query in queries:
            found: dict[K, None] = {}  # ordered, each once
            for ip in ips(query):
                for target in by_ip.get(ip, ()):
                    if target != query:
                        found.setdefault(target)
            if found:
                yield query, list(found)

    return excluded, groups()


class SingleEvidence:
    """Each identifier's evidence as a cluster of its own, made when read. Training
    and prediction pair anonymous clusters with single cookies and devices; at a
    million identifiers the ones a step reads (those sharing an IP with its queries)
    are a fraction of those it might, and making every one took a fifth of the
    decisions' time. Not kept: one is its history itself and a set of one
    (:func:`ml.evidence.cluster_evidence`), cheap to make again, where keeping every
    one paired took a share of a 1M resolve's peak memory. Which IPs one was seen on
    needs no evidence (:meth:`ips`)."""

    def __init__(
        self,
        histories: Mapping[Identifier, Mapping[str, IpStats]],
        *,
        account_types: frozenset[str],
    ) -> None:
        self._histories = histories
        self._account_types = account_types

    def __getitem__(self, identifier: Identifier) -> Evidence:
        return cluster_evidence([identifier], self._histories, account_types=self._account_types)

    def ips(self, identifier: Identifier) -> Iterable[str]:
        """The IPs it was seen on: those of its evidence, in the same order."""
        return self._histories.get(identifier, {}).keys()
