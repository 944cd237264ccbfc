"""Weak evidence per cluster and pair features (candidate pairs: :mod:`ml.candidates`).

Pure functions over plain data. A cluster's evidence is what its identifiers
were seen with: for each IP, the days, the (day, hour) slots, the user agents,
and the first and last time. Cost: O(observations) to build evidence.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from graph.ingest.events import DAY_MS, Identifier

__all__ = [
    "FEATURES",
    "NO_CHAIN",
    "Evidence",
    "IpStats",
    "Side",
    "cluster_evidence",
    "evidence_without_events",
    "features",
    "identifier_histories",
    "ip_degrees",
    "lifetime",
    "pair_features",
    "side",
    "ua_surprisal",
    "user_agents",
    "with_context",
]

K = TypeVar("K", bound=Hashable)
HOUR_MS = 3_600_000
NO_CONTINUITY = 365.0
#: an IP seen with at most this many clusters is rare (a home, not a network)
RARE_IP_CLUSTERS = 3
#: surprisal of a user agent that no statistics were given for
UNKNOWN_SURPRISAL = 10.0


@dataclass(slots=True, eq=False)
class IpStats:
    """One cluster on one IP.

    Its days and hour slots (``ts // HOUR_MS``) are bit sets held in Python ints, bit
    ``n`` standing for ``base + n``: at a million identifiers these are a few million
    objects, and a set with its int members took ~250 bytes for one day where an int
    takes ~30 (and counting the days two share is one ``&``). Most saw one user agent
    on an IP: it is kept alone (its span is the stats' own ``first``/``last``), and a
    dict of spans is made at the second (a one-entry dict and its span took ~240 bytes).
    """

    day_bits: int = 0
    day_base: int = 0
    slot_bits: int = 0
    slot_base: int = 0
    ua: str | None = None  #: the user agent, while only one was seen
    more_uas: dict[str | None, tuple[int, int]] | None = None  #: ua -> (first, last), 2+
    first: int = 2**62
    last: int = 0
    count: int = 0

    def add(self, ts: int, ua: str | None) -> None:
        self.day_bits, self.day_base = _with(self.day_bits, self.day_base, ts // DAY_MS)
        self.slot_bits, self.slot_base = _with(self.slot_bits, self.slot_base, ts // HOUR_MS)
        if self.more_uas is not None:
            first, last = self.more_uas.get(ua, (ts, ts))
            self.more_uas[ua] = (min(first, ts), max(last, ts))
        elif not self.count:
            self.ua = ua
        elif ua != self.ua:
            self.more_uas = {self.ua: (self.first, self.last), ua: (ts, ts)}
        self.first = min(self.first, ts)
        self.last = max(self.last, ts)
        self.count += 1

    @property
    def uas(self) -> Mapping[str | None, tuple[int, int]]:
        """Each user agent seen (None: events without one) -> (first, last) time."""
        if self.more_uas is not None:
            return self.more_uas
        return {self.ua: (self.first, self.last)} if self.count else {}

    @property
    def day_count(self) -> int:
        """Days seen."""
        return self.day_bits.bit_count()

    def common_days(self, other: IpStats) -> int:
        """Days both were seen on (this IP)."""
        return _common(self.day_bits, self.day_base, other.day_bits, other.day_base)

    def common_hours(self, other: IpStats) -> int:
        """Hour slots (day and hour) both were seen in."""
        return _common(self.slot_bits, self.slot_base, other.slot_bits, other.slot_base)

    def merge(self, other: IpStats) -> IpStats:
        merged = IpStats(
            *_union(self.day_bits, self.day_base, other.day_bits, other.day_base),
            *_union(self.slot_bits, self.slot_base, other.slot_bits, other.slot_base),
            first=min(self.first, other.first),
            last=max(self.last, other.last),
            count=self.count + other.count,
        )
        if (
            self.more_uas is None
            and other.more_uas is None
            and (self.ua == other.ua or not self.count or not other.count)
        ):  # one user agent (or none) between them
            merged.ua = self.ua if self.count else other.ua
        else:
            spans = dict(self.uas)
            for ua, (first, last) in other.uas.items():
                f, la = spans.get(ua, (first, last))
                spans[ua] = (min(f, first), max(la, last))
            merged.more_uas = spans
        return merged


def _with(bits: int, base: int, n: int) -> tuple[int, int]:
    """The bit set ``bits`` (bit k: ``base + k``) with ``n`` in it, and its base (lower
    when ``n`` is below it)."""
    if not bits:
        return 1, n
    if n < base:
        return (bits << (base - n)) | 1, n
    return bits | (1 << (n - base)), base


def _union(a: int, a_base: int, b: int, b_base: int) -> tuple[int, int]:
    if not a or not b:
        return (a, a_base) if a else (b, b_base)
    if a_base <= b_base:
        return a | (b << (b_base - a_base)), a_base
    return b | (a << (a_base - b_base)), b_base


def _common(a: int, a_base: int, b: int, b_base: int) -> int:
    """How many members two bit sets share (bits below the higher base are in one only)."""
    if a_base <= b_base:
        return ((a >> (b_base - a_base)) & b).bit_count()
    return ((b >> (a_base - b_base)) & a).bit_count()


@dataclass(slots=True)
class Evidence:
    """What one cluster was seen with. A single identifier's ``ips`` are its history
    itself (:func:`cluster_evidence`), read, never changed."""

    ips: Mapping[str, IpStats]
    size: int  #: identifiers in the cluster
    has_account: bool  #: holds a user_id, loyalty_id, e-mail or phone
    members: frozenset[Identifier] = frozenset()

    @property
    def events(self) -> int:
        return sum(s.count for s in self.ips.values())


def lifetime(by_ip: Mapping[str, IpStats]) -> tuple[int, int]:
    """First and last time (ms) seen, on any IP."""
    return min(s.first for s in by_ip.values()), max(s.last for s in by_ip.values())


def user_agents(by_ip: Mapping[str, IpStats]) -> set[str]:
    """Every user agent seen, on any IP."""
    return {ua for s in by_ip.values() for ua in s.uas if ua}


def identifier_histories(
    observations: Iterable[tuple[Identifier, str, str | None, int]],
    *,
    raw: dict[Identifier, list[tuple[str, str | None, int]]] | None = None,
    raw_of: Container[Identifier] = (),
) -> dict[Identifier, dict[str, IpStats]]:
    """Per strong identifier: its evidence on each IP. The observations of ``raw_of``
    are also kept one by one in ``raw`` (the same single pass)."""
    histories: dict[Identifier, dict[str, IpStats]] = defaultdict(dict)
    for identifier, ip, ua, ts in observations:
        stats = histories[identifier].get(ip)
        if stats is None:
            stats = histories[identifier][ip] = IpStats()
        stats.add(ts, ua)
        if raw is not None and identifier in raw_of:
            raw.setdefault(identifier, []).append((ip, ua, ts))
    return dict(histories)


def cluster_evidence(
    members: Iterable[Identifier],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    *,
    account_types: frozenset[str],
) -> Evidence:
    members = frozenset(members)
    if len(members) == 1:  # its history as it is, not a copy: most clusters, and
        # every single device paired, are one identifier (hundreds of thousands at 1M)
        (only,) = members
        return Evidence(histories.get(only, {}), 1, only.type in account_types, members)
    ips: dict[str, IpStats] = {}
    size = 0
    account = False
    for member in members:
        size += 1
        account = account or member.type in account_types
        for ip, stats in histories.get(member, {}).items():
            ips[ip] = ips[ip].merge(stats) if ip in ips else stats
    return Evidence(ips, size, account, members)


def evidence_without_events(
    members: Iterable[Identifier],
    observations: Mapping[Identifier, Sequence[tuple[str, str | None, int]]],
    skip: set[tuple[str, int]],
    *,
    account_types: frozenset[str],
) -> Evidence:
    """Like :func:`cluster_evidence`, from raw observations, leaving out the events
    (ip, time) in ``skip``: the events a held-out device shared with its profile."""
    members = list(members)
    kept = identifier_histories(
        (m, ip, ua, ts)
        for m in members
        for ip, ua, ts in observations.get(m, ())
        if (ip, ts) not in skip
    )
    return cluster_evidence(members, kept, account_types=account_types)


def ip_degrees(evidence: Mapping[K, Evidence]) -> Counter[str]:
    """How many devices each IP was seen with: each identified cluster counts once,
    anonymous clusters once per distinct set of user agents on that IP (once each
    when they have none). A browser that renews its cookie every few days is one
    device, not dozens: a home must not look like a carrier NAT because its
    browsers churn cookies."""
    degrees: Counter[str] = Counter()
    anonymous: dict[str, set[frozenset[str]]] = defaultdict(set)
    for ev in evidence.values():
        for ip, stats in ev.ips.items():
            agents = frozenset(ua for ua in stats.uas if ua)
            if ev.has_account or not agents:  # without a user agent: a device of its own
                degrees[ip] += 1
            else:
                anonymous[ip].add(agents)
    for ip, devices in anonymous.items():
        degrees[ip] += len(devices)
    return degrees


FEATURES = (
    "shared_ips",
    "adamic_adar",
    "resource_allocation",
    "ip_jaccard",
    "share_of_a_ips",
    "share_of_b_ips",
    "min_shared_ip_degree",
    "shared_ip_user_agents",
    "user_agent_jaccard",
    "same_days",
    "same_hours",
    "overlap_of_days",
    "days_a_on_shared",
    "days_b_on_shared",
    "continuity_days",
    "same_user_agent_overlap_days",
    "shared_rare_ips",
    "ip_user_agent_rarity",
    "shared_user_agent_surprisal",
    "log_events_a",
    "log_events_b",
    "ips_a",
    "ips_b",
    "size_b",
    "b_has_account",
    "chain_adjacent",  # ml/browsers.py: one browser's successive cookies
    "chain_owners",
    "chain_gap_days",
    "rarity_lead",
)
#: the chain features of a pair that is not chain-adjacent (see ml.browsers)
NO_CHAIN: tuple[float, float, float] = (0.0, 0.0, 365.0)
#: the last feature is the pair's context among the query's candidates (see with_context)
RARITY = FEATURES.index("ip_user_agent_rarity")


def with_context(rows: list[list[float]]) -> list[list[float]]:
    """Append each candidate's lead over the best *other* candidate of the same query
    (ratio of their (IP, user agent) rarity scores; 10 when no other one scores)."""
    scores = [row[RARITY] for row in rows]
    top = sorted(range(len(scores)), key=lambda n: -scores[n])[:2]  # O(k log k), not O(k²)
    out = []
    for n, row in enumerate(rows):
        others = [scores[m] for m in top if m != n]
        other = others[0] if others else 0.0
        out.append([*row, min(10.0, scores[n] / other) if other > 0 else 10.0])
    return out


def ua_surprisal(evidence: Mapping[K, Evidence]) -> dict[str, float]:
    """How rare each user agent is: log(clusters / clusters seen with it). A browser
    version half the town runs says little; a rare one says a lot."""
    counts: Counter[str] = Counter(
        ua for ev in evidence.values() for ua in {u for s in ev.ips.values() for u in s.uas if u}
    )
    total = max(1, len(evidence))
    return {ua: math.log(total / n) for ua, n in counts.items()}


@dataclass(frozen=True, slots=True)
class Side:
    """What a pair's features read of one side's evidence alone (:func:`side`): made
    once for a query's candidates, not again for each of its pairs."""

    evidence: Evidence
    usable: frozenset[str]  #: its IPs seen with at most the cap's clusters
    agents: frozenset[str]  #: :func:`user_agents`
    log_events: float


def side(ev: Evidence, degrees: Mapping[str, int], cap: int) -> Side:
    """``ev`` as a side of pairs whose IPs over ``cap`` clusters do not count. Pure."""
    return Side(ev, frozenset(ip for ip in ev.ips if degrees.get(ip, 1) <= cap),
                frozenset(user_agents(ev.ips)), math.log1p(ev.events))  # fmt: skip


def features(
    a: Evidence,
    b: Evidence,
    degrees: Mapping[str, int],
    *,
    cap: int,
    agents: Mapping[str, float] | None = None,
    chain: Sequence[float] = NO_CHAIN,
) -> list[float]:
    """The pair's :data:`FEATURES` but the last (``a`` usually anonymous). Pure.
    ``agents``: :func:`ua_surprisal` (without it, shared user agents count as rare);
    ``chain``: :func:`ml.browsers.chain_features` of the pair (:func:`pair_features`).

    Deliberately absent: how many candidates ``a`` has. In training a held-out
    device always has its own profile among them, so "one candidate" would mean
    "positive" there, while at prediction a lone candidate is often a housemate.
    """
    return pair_features(side(a, degrees, cap), side(b, degrees, cap), degrees,
                         agents=agents, chain=chain)  # fmt: skip


def pair_features(sa: Side, sb: Side, degrees: Mapping[str, int], *,
                  agents: Mapping[str, float] | None = None,
                  chain: Sequence[float] = NO_CHAIN) -> list[float]:  # fmt: skip
    """:func:`features` of two sides made with the same ``degrees`` and cap. Pure."""
    a, b = sa.evidence, sb.evidence
    usable_a, usable_b = sa.usable, sb.usable
    shared = sorted(usable_a & usable_b)
    union = len(usable_a) + len(usable_b) - len(shared)
    surprisal = agents or {}
    adamic = allocation = rarity = 0.0  # rarity: shared (IP, user agent)s, rare IPs more
    same_days = same_hours = days_a = days_b = shared_ua = rare = 0
    lowest = 2**62  # the lowest degree of a shared IP (0: one not counted)
    surprise = 0.0  # the rarest user agent they share
    continuity = NO_CONTINUITY
    overlap = 0.0  # one browser holds one cookie at a time: concurrent use is two devices
    for ip in shared:
        degree = degrees.get(ip, 0)
        weight = 1 / math.log(1 + max(degree, 2))  # an IP not counted: as one of 2
        adamic += weight
        allocation += 1 / max(degree, 2)
        lowest = min(lowest, degree)
        rare += degree <= RARE_IP_CLUSTERS
        sa_ip, sb_ip = a.ips[ip], b.ips[ip]
        same_days += sa_ip.common_days(sb_ip)
        same_hours += sa_ip.common_hours(sb_ip)
        days_a += sa_ip.day_count
        days_b += sb_ip.day_count
        uas_a, uas_b = sa_ip.uas, sb_ip.uas
        for ua in uas_a.keys() & uas_b.keys():
            if ua is None:
                continue
            shared_ua += 1
            rarity += weight
            surprise = max(surprise, surprisal.get(ua, UNKNOWN_SURPRISAL))
            (fa, la), (fb, lb) = uas_a[ua], uas_b[ua]
            gap = max(fb - la, fa - lb, 0) / DAY_MS  # 0 when the periods overlap
            continuity = min(continuity, gap)
            overlap = max(overlap, (min(la, lb) - max(fa, fb)) / DAY_MS)
    common_agents = len(sa.agents & sb.agents)
    agent_union = len(sa.agents) + len(sb.agents) - common_agents
    return [
        float(len(shared)),
        adamic,
        allocation,
        len(shared) / union if union else 0.0,
        len(shared) / len(usable_a) if usable_a else 0.0,
        len(shared) / len(usable_b) if usable_b else 0.0,
        float(lowest if shared else 0),
        float(shared_ua),
        common_agents / agent_union if agent_union else 0.0,
        float(same_days),
        float(same_hours),
        same_days / max(1, min(days_a, days_b)),
        float(days_a),
        float(days_b),
        continuity,
        overlap,
        float(rare),
        rarity,
        surprise,
        sa.log_events,
        sb.log_events,
        float(len(a.ips)),
        float(len(b.ips)),
        float(b.size),
        float(b.has_account),
        *chain,
    ]
