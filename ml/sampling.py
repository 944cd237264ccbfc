"""A sample of the graph to train on, when the graph is too large to read whole.

``idgraph train`` needs the whole graph for little: its queries come from at most
``training_customers`` identified profiles, and how many links a threshold makes is
counted on at most ``decision_sample`` anonymous clusters. What makes a sample
hard is that the features are not local to a cluster: an IP's degree (how many
devices it was seen with) decides whether it makes candidates, and a query's
candidates are everyone else at its IPs. So the sample is drawn by IP and closed
over what the features read:

- **seeds**: a seeded share of the IPs that may be homes (not surely networks, by
  what the store counts per IP: :class:`IpCount`), every identifier seen at one read
  whole (with its deterministic cluster, all its events);
- **core**: the clusters seen at a seed IP. Queries and decisions come from them
  alone, and every IP of theirs is read whole unless the counts show it makes no
  candidates, so their candidates and the degrees of the IPs they share are exact;
- the other clusters read (candidates, housemates) need only whether each of their
  IPs makes candidates: from the counts when they tell, else that IP is read whole.

A cluster is in the core with probability ``1 - (1 - share)^k`` (``k``: its IPs
that could be seeds); counts over the core are weighted by its inverse (Horvitz and
Thompson) to estimate the graph's. Pure functions; the reads are
:mod:`app.graph_sample`'s.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graph.ingest.events import Identifier
from graph.resolve.integrity import IDENTITY_TYPES

__all__ = [
    "ONE_A_CLUSTER",
    "GraphSample",
    "IpCount",
    "degrees_at",
    "inclusion",
    "ip_counts",
    "unit_hash",
]

#: identifier types a deterministic cluster holds at most one of (merge protection):
#: at an IP, there are at least as many clusters as values of any one of them
ONE_A_CLUSTER = ("user_id", "loyalty_id")


@dataclass(frozen=True, slots=True)
class IpCount:
    """What the store counts for one IP, without clustering anything."""

    identifiers: int  #: strong identifiers seen with it
    accounts: int  #: the most values of one :data:`ONE_A_CLUSTER` type seen with it

    def surely_usable(self, cap: int) -> bool:
        """Seen with at most ``cap`` devices, whatever the clusters: each device
        (cluster, or user-agent set of anonymous ones) holds an identifier seen there."""
        return self.identifiers <= cap

    def surely_network(self, cap: int, read_limit: int) -> bool:
        """Seen with more than ``cap`` devices: more identified clusters than that, or
        (an approximation) more identifiers than ``read_limit``, which is never read
        whole (a home that many cookies is not a home any feature should lean on)."""
        return self.accounts > cap or self.identifiers > read_limit

    def degree(self, cap: int, read_limit: int) -> int | None:
        """The degree the features may use without reading it whole (None: read it):
        at most ``cap`` when surely usable (only that it is usable is used: an IP
        whose exact degree matters is read whole), over it when surely a network."""
        if self.surely_network(cap, read_limit):
            return max(cap + 1, self.accounts)
        if self.surely_usable(cap):
            return self.identifiers
        return None


def ip_counts(counts: Mapping[Identifier, tuple[int, int]]) -> dict[str, IpCount]:
    """The store's counts (:meth:`graph.store.GraphStore.weak_identifier_counts`, with
    :data:`ONE_A_CLUSTER` as its accounts) by IP value (the histories' key)."""
    return {
        ip.value: IpCount(identifiers, accounts) for ip, (identifiers, accounts) in counts.items()
    }


def degrees_at(
    clusters: Iterable[Iterable[Identifier]],
    agents: Mapping[Identifier, Mapping[str, Iterable[str | None]]],
    ips: Iterable[str],
) -> dict[str, int]:
    """The degrees of ``ips`` (:func:`ml.evidence.ip_degrees`: an identified cluster
    counts once, anonymous ones once per distinct set of user agents there, once each
    without any) from who was seen at each with which user agents (``agents``:
    identifier -> IP -> user agents), every one of them in ``clusters``."""
    wanted = set(ips)
    identified: Counter[str] = Counter()
    anonymous: dict[str, set[frozenset[str]]] = defaultdict(set)
    for members in clusters:
        members = list(members)
        account = any(m.type in IDENTITY_TYPES for m in members)
        seen: dict[str, set[str]] = {}
        for m in members:
            for ip, uas in agents.get(m, {}).items():
                if ip in wanted:
                    seen.setdefault(ip, set()).update(ua for ua in uas if ua)
        for ip, uas in seen.items():
            if account or not uas:
                identified[ip] += 1
            else:
                anonymous[ip].add(frozenset(uas))
    return {ip: identified[ip] + len(anonymous[ip]) for ip in wanted}


def unit_hash(seed: int, value: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``value`` (which IPs are seeds)."""
    digest = hashlib.blake2b(f"{seed}\x00{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def inclusion(share: float, could_seed: int) -> float:
    """The probability that a cluster with ``could_seed`` IPs that could be seeds is
    in the core."""
    return 1.0 - (1.0 - share) ** max(1, could_seed)


@dataclass
class GraphSample:
    """What :mod:`ml.training` needs to know of a sample (None: the whole graph)."""

    share: float  #: of the IPs that could be seeds, the share that are
    identifiers: int  #: strong identifiers in the whole graph
    seed_ips: set[str] = field(default_factory=set)
    #: IPs every identifier of which was read (their degrees are computed exactly)
    whole_ips: set[str] = field(default_factory=set)
    #: the degrees of the IPs seen but not read whole: read lightly (who was seen
    #: there, with which user agents: ``light_ips``), else :meth:`IpCount.degree`
    degrees: dict[str, int] = field(default_factory=dict)
    light_ips: set[str] = field(default_factory=set)
    #: core clusters (positions in the sample's clusters) -> 1 / their inclusion
    #: probability
    weights: dict[int, float] = field(default_factory=dict)

    @property
    def core(self) -> set[int]:
        return set(self.weights)

    def estimate(self, clusters: Iterable[int]) -> float:
        """How many clusters of the graph those of the core in ``clusters`` stand for."""
        return sum(self.weights.get(n, 0.0) for n in clusters)

    def summary(self) -> dict[str, float | int]:
        """For the model's metadata: what the model was trained on."""
        return {
            "share_of_ips": round(self.share, 5),
            "identifiers_in_graph": self.identifiers,
            "seed_ips": len(self.seed_ips),
            "ips_read_whole": len(self.whole_ips),
            "ips_read_lightly": len(self.light_ips),
            "core_clusters": len(self.weights),
            "core_clusters_stand_for": round(sum(self.weights.values())),
        }
