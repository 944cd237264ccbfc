"""The graph ``idgraph train`` reads: whole up to a size, a sample of it above
(:mod:`ml.sampling` says which and why; this module reads it from the store)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import NamedTuple

from app.resources import Resources
from graph.ingest.events import Identifier
from graph.progress import Progress, no_progress
from graph.resolve.clustering import connected_components
from graph.resolve.integrity import Link, largest_first
from graph.resolve.neighbourhood import neighbourhood
from graph.resolve.resolution import clustering
from ml.linking import LinkingSettings
from ml.sampling import (
    ONE_A_CLUSTER,
    GraphSample,
    IpCount,
    degrees_at,
    inclusion,
    ip_counts,
    unit_hash,
)

__all__ = ["SampledGraph", "read_sample"]

logger = logging.getLogger(__name__)

#: (strong identifier, weak value, user agent, ms)
Observation = tuple[Identifier, str, str | None, int]
#: identifier -> IP -> the user agents it was seen there with
Agents = dict[Identifier, dict[str, list[str | None]]]
#: no limit on a closed neighbourhood's size (the sample bounds it)
UNBOUNDED = 2**62


class SampledGraph(NamedTuple):
    """A sample's deterministic clusters, quarantine, weak observations and what
    :mod:`ml.training` needs to know of it."""

    clusters: list[list[Identifier]]
    quarantined: set[Identifier]
    observations: list[Observation]
    sample: GraphSample


def read_sample(
    res: Resources, settings: LinkingSettings, progress: Progress = no_progress
) -> SampledGraph | None:
    """A sample of the graph (None: it has at most ``settings.whole_graph_limit``
    strong identifiers, read it whole). IPs are read whole (everyone seen there,
    their deterministic clusters closed, all their events) or, when only their
    degree is needed, lightly (everyone seen there, their clusters, the user agents
    they were seen there with): the seed IPs whole; every other IP of the core
    clusters that makes candidates whole (read lightly first when the counts do not
    tell whether it does); the other IPs of the clusters read whole lightly, when the
    counts do not tell whether they make candidates."""
    strong, weak = res.registry.strong_types, res.registry.weak_types
    total = res.store.count_identifiers_of_types(strong)
    if total <= settings.whole_graph_limit:
        return None
    progress("sampling the graph", 0, None)
    raw_counts = res.store.weak_identifier_counts(strong, weak, ONE_A_CLUSTER)
    keys = {ip.value: ip for ip in raw_counts}
    counts = ip_counts(raw_counts)
    cap, limit = settings.ip_cap, settings.read_limit

    def told(ip: str) -> int | None:  # its degree as far as the counts tell
        return counts.get(ip, _NETWORK).degree(cap, limit)

    share = min(1.0, settings.train_sample / total)
    could_seed = {ip for ip, c in counts.items() if not c.surely_network(cap, limit)}
    seeds = {ip for ip in could_seed if unit_hash(settings.seed, ip) < share}
    reader = _Reader(res, strong, weak, keys)
    reader.read_whole(seeds)
    core = _core(reader, seeds)
    core_ips = {ip for m in core for ip in reader.ips_of.get(m, ())} - reader.whole
    reader.read_whole(ip for ip in core_ips if counts.get(ip, _NETWORK).surely_usable(cap))
    unknown = reader.degrees_of(ip for ip in core_ips if told(ip) is None)
    reader.read_whole(ip for ip, degree in unknown.items() if degree <= cap)
    seen = {ip for ips in reader.ips_of.values() for ip in ips} - reader.whole
    light = reader.read_lightly(ip for ip in seen if told(ip) is None and ip not in reader.degrees)
    # the last reads done: everything read clustered (a cluster is all read whole or
    # all read lightly, closures being closed), for the last degrees and the sample
    every = reader.clusters()
    reader.degrees.update(degrees_at(every, *light))
    clusters = [members for members in every if members[0] in reader.nodes]
    sample = GraphSample(share=share, identifiers=total, seed_ips=seeds, whole_ips=reader.whole,
                         light_ips=set(reader.degrees) - reader.whole)  # fmt: skip
    for ip in seen:  # no IP was read whole since (nor any identifier's events)
        degree = reader.degrees.get(ip, told(ip))
        sample.degrees[ip] = cap + 1 if degree is None else degree
    for n, members in enumerate(clusters):
        ips = {ip for m in members for ip in reader.ips_of.get(m, ())}
        if ips & seeds:
            sample.weights[n] = 1.0 / inclusion(share, len(ips & could_seed))
    logger.info("train reads a sample: %s", sample.summary())
    return SampledGraph(clusters, reader.quarantined & reader.nodes, reader.observations, sample)


#: the counts of an IP the store did not count (none seen there): a network, unread
_NETWORK = IpCount(identifiers=2**31, accounts=2**31)


def _core(reader: _Reader, seeds: set[str]) -> set[Identifier]:
    """The identifiers of the clusters seen at a seed IP: those whose every IP must be
    known. Deterministic clusters are within the closed scopes read, so a scope's
    connected identifiers (through its observation edges) hold them."""
    edges = ((link.a, link.b) for link in reader.links.values())
    return {m for component in connected_components(sorted(reader.nodes), edges)
            if any(reader.ips_of.get(n, set()) & seeds for n in component)
            for m in component}  # fmt: skip


class _Reader:
    """What has been read of the sample so far."""

    def __init__(
        self, res: Resources, strong: list[str], weak: list[str], keys: dict[str, Identifier]
    ) -> None:
        self._res = res
        self._strong = strong
        self._weak = weak
        self._keys = keys
        self._settings = res.resolve_settings()
        self.overrides = res.store.quarantine_overrides()
        self.nodes: set[Identifier] = set()
        self.links: dict[tuple[Identifier, Identifier], Link] = {}
        #: every identifier a closure read -> those it goes on to (none: quarantined)
        self._onward: dict[Identifier, tuple[Identifier, ...]] = {}
        self.whole: set[str] = set()
        self.ips_of: dict[Identifier, set[str]] = {}
        self.observations: list[Observation] = []
        #: read lightly: identifiers only seen at such IPs (not in ``nodes``), and the
        #: degrees of those IPs
        self.light: set[Identifier] = set()
        self.degrees: dict[str, int] = {}
        #: the clusters of the closed scopes clustered so far (their identifiers in
        #: ``clustered``), and their quarantined identifiers
        self._clusters: list[list[Identifier]] = []
        self._clustered: set[Identifier] = set()
        self.quarantined: set[Identifier] = set()

    def read_whole(self, ips: Iterable[str]) -> None:
        """Everyone seen at ``ips``, with their closed neighbourhoods and events."""
        wanted = sorted(set(ips) - self.whole)
        self.whole.update(wanted)
        at = self._res.store.identifiers_seen_with(
            (self._keys[ip] for ip in wanted if ip in self._keys), self._strong
        )
        # a light identifier's closure is walked again (not read): closed, it comes whole
        new = self._closed({m for members in at.values() for m in members} - self.nodes)
        new -= self.nodes
        self.nodes |= new
        self.light -= new
        for observation in self._res.store.weak_observations_of(sorted(new), self._weak):
            self.observations.append(observation)
            self.ips_of.setdefault(observation[0], set()).add(observation[1])

    def degrees_of(self, ips: Iterable[str]) -> dict[str, int]:
        """The degrees of ``ips``, read lightly (:meth:`read_lightly`)."""
        agents, wanted = self.read_lightly(ips)
        found = degrees_at(self._clusters_of(set(agents)), agents, wanted)
        self.degrees.update(found)
        return found

    def read_lightly(self, ips: Iterable[str]) -> tuple[Agents, list[str]]:
        """Who was seen at ``ips`` (their clusters closed) and with which user agents,
        not their other events: what their degrees are counted from (ml.sampling's
        ``degrees_at``); and the IPs asked for."""
        wanted = sorted(set(ips) - self.whole)
        rows = self._res.store.weak_agents_at(
            (self._keys[ip] for ip in wanted if ip in self._keys), self._strong
        )
        agents: Agents = {}
        for ip, identifier, uas in rows:
            agents.setdefault(identifier, {})[ip] = uas
        self.light |= self._closed(set(agents) - self.nodes - self.light) - self.nodes
        return agents, wanted

    def _closed(self, identifiers: set[Identifier]) -> set[Identifier]:
        """``identifiers`` with their closed neighbourhoods: walked here from the links
        read for those read before (read lightly, then whole: the same closure), read
        from the store for the others."""
        known = identifiers & self._onward.keys()
        closed = self._walk(known)
        rest = identifiers - known
        if not rest:
            return closed
        scope = neighbourhood(self._res.store, rest, self._strong, self._settings,
                              self.overrides, UNBOUNDED, deterministic=True)  # fmt: skip
        assert scope is not None  # unbounded
        onward: dict[Identifier, list[Identifier]] = {n: [] for n in scope.nodes}
        for link in scope.links:
            key = (link.a, link.b) if link.a < link.b else (link.b, link.a)
            self.links.setdefault(key, link)
            # the search went on from every node it did not stop at, through all its
            # links (each node's were all read): the same walk, done here next time
            for a, b in ((link.a, link.b), (link.b, link.a)):
                if a in onward and a not in scope.blocked:
                    onward[a].append(b)
        for node, nexts in onward.items():
            self._onward.setdefault(node, tuple(nexts))
        return closed | rest | scope.nodes

    def _walk(self, seeds: set[Identifier]) -> set[Identifier]:
        """The closure of ``seeds`` (every one read by :meth:`_closed` before) over
        the links read then, as :func:`graph.resolve.neighbourhood.neighbourhood`
        walks them: on from every identifier it did not stop at."""
        seen, todo = set(seeds), list(seeds)
        while todo:
            for node in self._onward[todo.pop()]:
                if node not in seen:
                    seen.add(node)
                    todo.append(node)
        return seen

    def _clusters_of(self, identifiers: set[Identifier]) -> list[list[Identifier]]:
        """The deterministic clusters of ``identifiers`` (every one read, closed).
        Everything read and not yet clustered is clustered now (a union of closed
        scopes, as :meth:`_cluster` needs), not only the components of
        ``identifiers``: the rest would be clustered later, to the same clusters, and
        finding the components cost a pass over everything read (3 s at 1M)."""
        self._cluster(self.nodes | self.light | identifiers)
        return [c for c in self._clusters if identifiers.intersection(c)]

    def clusters(self) -> list[list[Identifier]]:
        """The deterministic clusters of everything read (closed), in the order one
        clustering of it gives (largest first, then by first member)."""
        self._cluster(self.nodes | self.light)
        return sorted(self._clusters, key=largest_first)

    def _cluster(self, scope: set[Identifier]) -> None:
        """Cluster what of ``scope`` is not yet: a union of closed components, so its
        clusters (and quarantine: every link touching it is read) are those one
        clustering of everything read would give; each is clustered once. A link to
        an identifier clustered before reaches one quarantined then (a closure stops
        only there), held quarantined here too."""
        scope = scope - self._clustered
        if not scope:
            return
        among = [lk for lk in self.links.values() if lk.a in scope or lk.b in scope]
        overrides = {**dict.fromkeys(self.quarantined, "force"), **self.overrides}
        made = clustering(scope, among, overrides=overrides, settings=self._settings)
        self._clusters.extend(made.clusters)
        self._clustered |= scope
        self.quarantined |= made.quarantined
