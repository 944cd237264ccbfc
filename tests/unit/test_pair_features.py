"""A pair's features, made from sides a query's pairs share, against the features
written out from their definitions one by one (the way they were made a pair at a
time before: ml/evidence.py at de887fc), on random histories."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.ingest.events import DAY_MS
from graph.ingest.events import Identifier as I
from graph.resolve.integrity import IDENTITY_TYPES
from ml.evidence import (
    NO_CHAIN,
    RARE_IP_CLUSTERS,
    UNKNOWN_SURPRISAL,
    Evidence,
    cluster_evidence,
    features,
    identifier_histories,
    ip_degrees,
    pair_features,
    side,
    ua_surprisal,
    user_agents,
)

T0 = 1_780_000_000_000
IPS = [f"10.0.0.{n}" for n in range(3)]
AGENTS = [None, "", "Firefox/120", "Chrome/131", "Safari/17"]
IDENTIFIERS = [I("cookie_id", "c1"), I("cookie_id", "c2"), I("device_id", "d1"),
               I("email", "a@example.com"), I("cookie_id", "c3")]  # fmt: skip


def reference(
    a: Evidence, b: Evidence, degrees: Mapping[str, int], *, cap: int,
    agents: Mapping[str, float] | None, chain: Sequence[float],
) -> list[float]:  # fmt: skip
    usable_a = {ip for ip in a.ips if degrees.get(ip, 1) <= cap}
    usable_b = {ip for ip in b.ips if degrees.get(ip, 1) <= cap}
    shared = sorted(usable_a & usable_b)
    union = usable_a | usable_b
    adamic = sum(1 / math.log(1 + max(degrees.get(ip, 2), 2)) for ip in shared)
    allocation = sum(1 / max(degrees.get(ip, 2), 2) for ip in shared)
    same_days = same_hours = days_a = days_b = shared_ua = 0
    rarity = surprise = overlap = 0.0
    continuity = 365.0
    for ip in shared:
        sa, sb = a.ips[ip], b.ips[ip]
        same_days += sa.common_days(sb)
        same_hours += sa.common_hours(sb)
        days_a += sa.day_count
        days_b += sb.day_count
        for ua in sa.uas.keys() & sb.uas.keys():
            if ua is None:
                continue
            shared_ua += 1
            rarity += 1 / math.log(1 + max(degrees.get(ip, 2), 2))
            surprise = max(surprise, (agents or {}).get(ua, UNKNOWN_SURPRISAL))
            (fa, la), (fb, lb) = sa.uas[ua], sb.uas[ua]
            continuity = min(continuity, max(fb - la, fa - lb, 0) / DAY_MS)
            overlap = max(overlap, (min(la, lb) - max(fa, fb)) / DAY_MS)
    uas_a, uas_b = user_agents(a.ips), user_agents(b.ips)
    ua_union = uas_a | uas_b
    return [
        float(len(shared)), adamic, allocation,
        len(shared) / len(union) if union else 0.0,
        len(shared) / len(usable_a) if usable_a else 0.0,
        len(shared) / len(usable_b) if usable_b else 0.0,
        float(min((degrees.get(ip, 0) for ip in shared), default=0)),
        float(shared_ua),
        len(uas_a & uas_b) / len(ua_union) if ua_union else 0.0,
        float(same_days), float(same_hours), same_days / max(1, min(days_a, days_b)),
        float(days_a), float(days_b), continuity, overlap,
        float(sum(1 for ip in shared if degrees.get(ip, 0) <= RARE_IP_CLUSTERS)),
        rarity, surprise, math.log1p(a.events), math.log1p(b.events),
        float(len(a.ips)), float(len(b.ips)), float(b.size), float(b.has_account), *chain,
    ]  # fmt: skip


observation = st.tuples(st.sampled_from(IDENTIFIERS), st.sampled_from(IPS),
                        st.sampled_from(AGENTS), st.integers(0, 40 * DAY_MS))  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    st.lists(observation, min_size=2, max_size=40),
    st.integers(0, len(IDENTIFIERS)),
    st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=len(IPS), max_size=len(IPS)),
    st.integers(1, 6),
    st.booleans(),
)
def test_pair_features_are_those_of_their_definitions(
    observations: list[tuple[I, str, str | None, int]],
    split: int,
    degrees: list[int | None],
    cap: int,
    surprisal: bool,
) -> None:
    histories = identifier_histories((m, ip, ua, T0 + ts) for m, ip, ua, ts in observations)
    a = cluster_evidence(IDENTIFIERS[:split], histories, account_types=IDENTITY_TYPES)
    b = cluster_evidence(IDENTIFIERS[split:], histories, account_types=IDENTITY_TYPES)
    # each IP's degree: as counted, another, or none (an IP the degrees do not count)
    counted = dict(ip_degrees({0: a, 1: b}))
    for ip, degree in zip(IPS, degrees, strict=True):
        if degree is None:
            counted.pop(ip, None)
        elif degree != 6:
            counted[ip] = degree
    agents = ua_surprisal({0: a, 1: b}) if surprisal else None
    chain = (1.0, 2.0, 3.5) if split % 2 else NO_CHAIN
    expected = reference(a, b, counted, cap=cap, agents=agents, chain=chain)
    made = pair_features(side(a, counted, cap), side(b, counted, cap), counted,
                         agents=agents, chain=chain)  # fmt: skip
    # equal to the last bit: the model's thresholds were chosen on these numbers
    assert made == expected
    assert features(a, b, counted, cap=cap, agents=agents, chain=chain) == expected
    assert features(b, a, counted, cap=cap, agents=agents, chain=chain) == reference(
        b, a, counted, cap=cap, agents=agents, chain=chain
    )
