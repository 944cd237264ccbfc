"""Browser chains: a browser's successive cookies, one after the other.

A browser holds one cookie at a time. When it renews it (expiry, a privacy
feature, cleared storage) the new cookie comes with the same user agent from the
same home network, after the old one was last seen. So on an IP seen with few user
agents (a home, not an office or a carrier NAT), the cookies seen there with one
user agent whose lifetimes follow one another without overlapping are consistent
with one browser: each is *chain-adjacent* to the next. When two lifetimes overlap,
two browsers of the same make share that address and the group says nothing.

The *browser* family of the link model links each cookie to the next one of its
chain (:func:`chain_links`), unless the group's cookies belong to two identified
customers (a shared browser). Whether that can be trusted depends on the data:
where people at one address run browsers that look alike (the same phone and
browser version), two browsers can share a group without their cookies ever
overlapping. How often is estimated from the data itself (:func:`lookalike_estimate`):
the groups that *do* overlap reveal look-alike browsers, and pairs of known
different browsers at the same addresses tell how often two browsers' cookies
would not overlap. The family links only when the estimated precision (95% upper
bound of the error) reaches the model's target. Adjacency is also a feature of the
other families (:mod:`ml.evidence`).

Pure functions over :func:`ml.evidence.identifier_histories`. Cost: O(identifiers
times IPs each) to group, O(g log g) to order each group.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from typing import Any

from graph.ingest.events import DAY_MS, Identifier
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES, Link
from ml.evidence import NO_CHAIN, IpStats
from ml.evidence import lifetime as lifetime_of

__all__ = [
    "BrowserChains",
    "browser_chains",
    "chain_features",
    "chain_links",
    "home_chains",
    "home_groups",
    "in_sequence",
    "lookalike_estimate",
]

#: an IP seen with more distinct user agents than this is a network, not a home
DEFAULT_MAX_AGENTS = 8
#: the home definitions tried, narrowest first (:func:`home_chains`)
HOME_WIDTHS = (DEFAULT_MAX_AGENTS, 12, 16, 24)


@dataclass
class BrowserChains:
    """Which devices and cookies are chain-adjacent, and the groups they came from."""

    #: identifier -> {adjacent identifier: gap in days between their lifetimes}
    adjacent: dict[Identifier, dict[Identifier, float]] = field(default_factory=dict)
    #: identifier -> the members of every consistent group it is in
    group_members: dict[Identifier, set[Identifier]] = field(default_factory=dict)
    #: consistent groups of two or more, members in time order
    chains: list[list[Identifier]] = field(default_factory=list)
    overlapping: int = 0  #: groups left out: lifetimes overlap (two browsers)
    #: pairs of groups of different user agents at one IP (two browsers for sure), and
    #: how many of them would look like one browser if their user agents were equal
    different_pairs: int = 0
    different_pairs_consistent: int = 0
    #: the chance that two (IP, user agent) groups at homes, drawn at random, show one
    #: user agent: how often two unrelated browsers look alike
    agent_collision: float = 0.0

    @property
    def groups(self) -> int:
        return len(self.chains)


def browser_chains(
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    *,
    max_agents: int = DEFAULT_MAX_AGENTS,
    ips: Container[str] | None = None,
) -> BrowserChains:
    """Group devices and cookies by (IP, user agent) on IPs seen with at most
    ``max_agents`` user agents (:func:`home_groups`; ``ips``: only these); in each
    group whose lifetimes do not overlap, each member is adjacent to the next one in
    time."""
    lifetime, groups = home_groups(histories, max_agents=max_agents, ips=ips)
    chains = BrowserChains()
    groups_on: dict[str, list[list[Identifier]]] = defaultdict(list)
    for (ip, _), members in groups.items():
        groups_on[ip].append(members)
    agents = Counter(ua for _, ua in groups)
    chains.agent_collision = sum(n * n for n in agents.values()) / max(1, len(groups)) ** 2
    for together in groups_on.values():
        for one, other in combinations(together, 2):
            if set(one) & set(other):
                continue  # one cookie under two user agents: not surely two browsers
            chains.different_pairs += 1
            chains.different_pairs_consistent += in_sequence(
                sorted([*one, *other], key=lambda m: (lifetime[m], m)), lifetime
            )
    for members in groups.values():
        if len(members) < 2:
            continue
        order = sorted(members, key=lambda m: (lifetime[m], m))
        pairs = list(pairwise(order))
        if not in_sequence(order, lifetime):
            chains.overlapping += 1
            continue
        chains.chains.append(order)
        for a, b in pairs:
            gap = (lifetime[b][0] - lifetime[a][1]) / DAY_MS
            for x, y in ((a, b), (b, a)):
                known = chains.adjacent.setdefault(x, {})
                known[y] = min(gap, known.get(y, gap))
        for m in order:
            chains.group_members.setdefault(m, set()).update(order)
    return chains


def home_groups(
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    *,
    max_agents: int = DEFAULT_MAX_AGENTS,
    ips: Container[str] | None = None,
) -> tuple[dict[Identifier, tuple[int, int]], dict[tuple[str, str], list[Identifier]]]:
    """Each device's and cookie's lifetime (first, last seen anywhere), and the groups
    of them seen with one user agent on one IP seen with at most ``max_agents`` user
    agents (a home, not a network). ``ips``: groups on these IPs only (a sample of the
    graph holds everyone seen at them: :mod:`ml.sampling`)."""
    lifetime: dict[Identifier, tuple[int, int]] = {}
    agents_on: dict[str, set[str]] = defaultdict(set)
    for identifier, by_ip in histories.items():
        if identifier.type not in DEVICE_TYPES:
            continue
        lifetime[identifier] = lifetime_of(by_ip)
        for ip, stats in by_ip.items():
            if ips is None or ip in ips:
                agents_on[ip].update(ua for ua in stats.uas if ua)
    groups: dict[tuple[str, str], list[Identifier]] = defaultdict(list)
    for identifier in lifetime:
        for ip, stats in histories[identifier].items():
            if (ips is not None and ip not in ips) or len(agents_on[ip]) > max_agents:
                continue
            for ua in stats.uas:
                if ua:
                    groups[(ip, ua)].append(identifier)
    return lifetime, groups


def in_sequence(order: Sequence[Identifier], lifetime: Mapping[Identifier, tuple[int, int]]
                ) -> bool:  # fmt: skip
    """Whether each lifetime ends before the next begins (one browser's cookies can)."""
    return all(lifetime[a][1] < lifetime[b][0] for a, b in pairwise(order))


def chain_features(
    a_members: Iterable[Identifier],
    b_members: Iterable[Identifier],
    chains: BrowserChains,
    owner_of: Mapping[Identifier, int],
) -> list[float]:
    """The chain features of :data:`ml.evidence.FEATURES` for a pair of clusters:
    whether a member of ``a`` is chain-adjacent to a member of ``b``; how many
    identified profiles (``owner_of``) hold members of the groups that make them
    adjacent, ``a``'s own members left out (1: the chain leads to one customer; 2 or
    more: a shared or look-alike browser); the smallest gap between adjacent lifetimes, in days."""
    a_set = set(a_members)
    b_set = set(b_members)
    gap = NO_CHAIN[2]
    owners: set[int] = set()
    adjacent = False
    for m in a_set:
        near = chains.adjacent.get(m)
        if not near:
            continue
        for other in near.keys() & b_set:
            adjacent = True
            gap = min(gap, near[other])
            for member in chains.group_members.get(other, ()):
                if member not in a_set and member in owner_of:
                    owners.add(owner_of[member])
    return [float(adjacent), float(len(owners)), gap]


def lookalike_estimate(chains: BrowserChains, z: float = 1.96) -> dict[str, Any]:
    """Estimated precision of chain links: the share of consistent groups that hold
    two look-alike browsers without their cookies overlapping. Two ways that happens,
    counted apart and added:

    - *at the same time* (people at one address with the same phone and browser): of
      groups holding two browsers, a share ``q`` looks consistent by chance; ``q`` is
      measured on pairs of groups that surely are two browsers (different user agents
      at one IP). The groups seen overlapping are the other ``1 - q``, so about
      ``overlapping * q / (1 - q)`` consistent groups are two browsers;
    - *one after the other* (an address used in turn by different people: a reassigned
      home IP, a hotel, a café with few guests): their lifetimes never overlap, so the
      first count cannot see them. Of the pairs of browsers that used an address in
      turn, the ones with different user agents are seen (among the consistent pairs
      of different user agents); a share ``c`` of all such pairs share a user agent
      (``agent_collision``: two unrelated browsers look alike) and hide in one group:
      about ``consistent pairs * c / (1 - c)`` groups.

    The two overlap: ``q`` counts the pairs in turn too, and the second count takes
    every consistent pair as a pair in turn. Counted apart instead (``q`` from pairs
    whose spans overlap, the second from pairs whose spans do not), the estimate was
    above the truth by up to 5.8 points: look-alike browsers used over the same weeks
    alternate far more often than different ones. The sum was at or below the truth
    on 16 unseen worlds (``bench/chain_estimate.py``, docs/quality-estimates.md).
    The lower bound takes each count the estimate is made from plus ``z`` times its
    square root (Poisson): the overlapping groups, and the consistent pairs.
    """
    tried, passed = chains.different_pairs, chains.different_pairs_consistent
    q = passed / tried if tried else 1.0
    odds = q / (1 - q) if q < 1 else math.inf
    seen = chains.overlapping
    groups = max(1, chains.groups)
    c = chains.agent_collision
    in_turn = passed * c / (1 - c) if c < 1 else math.inf
    at_once = seen * odds if seen else 0.0
    error = min(1.0, (at_once + in_turn) / groups)
    at_once_high = (seen + z * math.sqrt(seen) + (z * z if not seen else 0)) * odds
    in_turn_high = (passed + z * math.sqrt(passed)) * c / (1 - c) if c < 1 else math.inf
    upper = min(1.0, (at_once_high + in_turn_high) / groups)
    return {
        "groups": chains.groups,
        "overlapping_groups": seen,
        "different_browser_pairs": chains.different_pairs,
        "consistent_by_chance": round(q, 4),
        "agent_collision": round(c, 5),
        "in_turn": round(in_turn, 1),
        "precision": round(1 - error, 5),
        "precision_lower_bound": round(1 - upper, 5),
    }


def home_chains(
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    target: float,
    widths: Sequence[int] = HOME_WIDTHS,
    *,
    narrowest: BrowserChains | None = None,
    ips: Container[str] | None = None,
) -> tuple[BrowserChains, dict[str, Any]]:
    """The chains of the widest home definition the data supports, and its estimate.

    Homes are IPs seen with at most ``widths[0]`` user agents, widened step by step:
    each wider band (IPs with more agents than the last width and at most the next)
    is added while the band's own estimated precision (its groups against its own
    overlapping groups and look-alike share) reaches ``target`` and the 95% lower
    bound of the whole still does. A big household's IP (more phones and browsers
    than eight) is then a home; an office, where look-alike browsers overlap, stops
    the widening. The estimate returned is the whole's, with ``home_max_agents``
    and each band's estimate (``bands``). ``narrowest``: the chains at ``widths[0]``,
    when the caller has them (``idgraph train`` uses them twice more); ``ips``: homes
    among these IPs only (:func:`home_groups`).
    """
    chosen = narrowest or browser_chains(histories, max_agents=widths[0], ips=ips)
    estimate = lookalike_estimate(chosen)
    bands = [{"max_agents": widths[0], **estimate, "added": True}]
    width = widths[0]
    if estimate["precision_lower_bound"] >= target:
        for wider in widths[1:]:
            whole = browser_chains(histories, max_agents=wider, ips=ips)
            band = lookalike_estimate(_band(whole, chosen))
            whole_estimate = lookalike_estimate(whole)
            added = (
                band["precision"] >= target and whole_estimate["precision_lower_bound"] >= target
            )
            bands.append({"max_agents": wider, **band, "added": added})
            if not added:
                break
            chosen, estimate, width = whole, whole_estimate, wider
    return chosen, {**estimate, "home_max_agents": width, "bands": bands}


def _band(wider: BrowserChains, narrower: BrowserChains) -> BrowserChains:
    """The groups and pairs ``wider`` holds beyond ``narrower`` (the IPs between)."""
    beyond = Counter(tuple(order) for order in wider.chains)
    beyond.subtract(tuple(order) for order in narrower.chains)
    return BrowserChains(
        chains=[list(order) for order, n in beyond.items() for _ in range(n)],
        overlapping=wider.overlapping - narrower.overlapping,
        different_pairs=wider.different_pairs - narrower.different_pairs,
        different_pairs_consistent=(
            wider.different_pairs_consistent - narrower.different_pairs_consistent
        ),
        agent_collision=wider.agent_collision,
    )


def chain_links(
    chains: BrowserChains,
    clusters: Sequence[Sequence[Identifier]],
    *,
    blocked: Iterable[Identifier] = (),
    score: float = 1.0,
) -> list[Link]:
    """Each cookie linked to the next of its chain, as model links with ``score``;
    not in a group whose cookies belong to two identified profiles (a shared
    browser), nor to a ``blocked`` (quarantined) identifier."""
    identified = {
        m: n
        for n, members in enumerate(clusters)
        if any(i.type in IDENTITY_TYPES for i in members)
        for m in members
    }
    skip = set(blocked)
    links: dict[tuple[Identifier, Identifier], Link] = {}
    for order in chains.chains:
        if len({identified[m] for m in order if m in identified}) > 1:
            continue
        for a, b in pairwise(order):
            if a in skip or b in skip:
                continue
            low, high = sorted((a, b))
            links.setdefault((low, high), Link(low, high, "model", score))
    return list(links.values())
