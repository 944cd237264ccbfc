"""Browser chains (ml/browsers.py): one browser's successive cookies, and when not."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.cli.model import _chains_refused
from graph.ingest.events import DAY_MS
from graph.ingest.events import Identifier as I
from graph.resolve.integrity import Link
from ml.browsers import (
    BrowserChains,
    browser_chains,
    chain_features,
    chain_links,
    home_chains,
    lookalike_estimate,
)
from ml.chain_decision import (
    browser_decision,
    kept_chains,
    look_alike_browsers,
    wrong_group_cost,
)
from ml.evidence import FEATURES, NO_CHAIN, IpStats, identifier_histories
from ml.linking import LinkingSettings, propose_links
from ml.model import LinkModel
from ml.model_card import browser_why, family_why

T0 = 1_780_000_000_000
HOME, OFFICE = "73.1.1.1", "66.2.2.2"
FIREFOX, SAFARI = "Mozilla/5.0 (X11; Linux) Firefox/120", "Mozilla/5.0 (Macintosh) Safari/17"


def seen(
    identifier: I, ip: str, ua: str | None, *days: float
) -> list[tuple[I, str, str | None, int]]:
    return [(identifier, ip, ua, T0 + int(d * DAY_MS)) for d in days]


def cookie(name: str) -> I:
    return I("cookie_id", name)


def test_successive_cookies_of_one_browser_chain_in_time_order() -> None:
    a, b, c = cookie("a"), cookie("b"), cookie("c")
    histories = identifier_histories(
        seen(c, HOME, FIREFOX, 20, 22) + seen(a, HOME, FIREFOX, 1, 4) + seen(b, HOME, FIREFOX, 6, 9)
    )
    chains = browser_chains(histories)
    assert chains.chains == [[a, b, c]] and chains.overlapping == 0
    assert chains.adjacent[a] == {b: 2.0}
    assert chains.adjacent[b] == {a: 2.0, c: 11.0}
    assert {(lk.a, lk.b) for lk in chain_links(chains, [[a], [b], [c]])} == {(a, b), (b, c)}


def test_overlapping_lifetimes_are_two_browsers_and_chain_nothing() -> None:
    a, b = cookie("a"), cookie("b")
    histories = identifier_histories(seen(a, HOME, FIREFOX, 1, 10) + seen(b, HOME, FIREFOX, 5, 12))
    chains = browser_chains(histories)
    assert chains.chains == [] and chains.overlapping == 1
    assert chain_links(chains, [[a], [b]]) == []


def test_a_network_with_many_user_agents_is_no_home() -> None:
    a, b = cookie("a"), cookie("b")
    crowd = [row for n in range(9) for row in seen(cookie(f"x{n}"), OFFICE, f"UA/{n}", 50 + n)]
    histories = identifier_histories(
        seen(a, OFFICE, FIREFOX, 1) + seen(b, OFFICE, FIREFOX, 3) + crowd
    )
    assert browser_chains(histories, max_agents=8).chains == []
    assert browser_chains(histories, max_agents=10).chains == [[a, b]]


def test_a_chain_through_two_customers_links_nobody() -> None:
    """A family laptop: one cookie logged in by one person, the next by another."""
    a, b, c = cookie("a"), cookie("b"), cookie("c")
    histories = identifier_histories(
        seen(a, HOME, FIREFOX, 1) + seen(b, HOME, FIREFOX, 3) + seen(c, HOME, FIREFOX, 5)
    )
    chains = browser_chains(histories)
    parent, kid = [a, I("email", "mum@example.com")], [c, I("user_id", "kid")]
    assert chain_links(chains, [parent, [b], kid]) == []
    # one customer: the anonymous cookie joins them
    assert len(chain_links(chains, [parent, [b], [c]])) == 2


def test_quarantined_cookies_are_never_chained() -> None:
    a, b, c = cookie("a"), cookie("b"), cookie("c")
    histories = identifier_histories(
        seen(a, HOME, FIREFOX, 1) + seen(b, HOME, FIREFOX, 3) + seen(c, HOME, FIREFOX, 5)
    )
    links = chain_links(browser_chains(histories), [[a], [b], [c]], blocked={b})
    assert links == []


def test_chain_features_count_the_customers_a_chain_leads_to() -> None:
    a, b, c = cookie("a"), cookie("b"), cookie("c")
    histories = identifier_histories(
        seen(a, HOME, FIREFOX, 1) + seen(b, HOME, FIREFOX, 3) + seen(c, HOME, FIREFOX, 5)
    )
    chains = browser_chains(histories)
    assert chain_features([b], [a], chains, {a: 0}) == [1.0, 1.0, 2.0]
    assert chain_features([b], [a], chains, {a: 0, c: 1}) == [1.0, 2.0, 2.0]
    assert chain_features([a], [c], chains, {}) == list(NO_CHAIN)  # not next to each other


def _homes(look_alike: int, distinct: int) -> dict[I, dict[str, IpStats]]:
    return identifier_histories(_home_rows(look_alike, distinct))


def _home_rows(look_alike: int, distinct: int) -> list[tuple[I, str, str | None, int]]:
    """Homes with two browsers each: ``look_alike`` homes where both run the same
    user agent at the same time, ``distinct`` homes where they differ (and half of
    those use their browsers at different times: their cookies would not overlap).
    Every home runs versions of its own: two homes' browsers never look alike."""
    rows = []
    for n in range(look_alike + distinct):
        ip = f"73.0.{n // 250}.{n % 250}"
        first = f"{FIREFOX}.{n}"
        second = first if n < look_alike else f"{SAFARI}.{n}"
        later = 3 if n % 2 else 0
        for k in range(4):
            rows += seen(cookie(f"f{n}-{k}"), ip, first, 10 * k, 10 * k + 3)
            rows += seen(cookie(f"s{n}-{k}"), ip, second, 10 * k + 2 + later, 10 * k + 5 + later)
    return rows


def test_estimate_refuses_where_browsers_look_alike() -> None:
    distinct = lookalike_estimate(browser_chains(_homes(0, 400)))
    assert distinct["groups"] == 800 and distinct["overlapping_groups"] == 0
    assert distinct["consistent_by_chance"] == 0.5
    assert 0.99 < distinct["precision_lower_bound"] < distinct["precision"]
    assert distinct["precision"] > 0.999  # unrelated browsers almost never look alike
    mixed = lookalike_estimate(browser_chains(_homes(100, 300)))
    # half the look-alike homes show it (their cookies overlap); the other half hide
    # two browsers in one consistent group, and the estimate finds as many
    assert mixed["overlapping_groups"] == 50 and mixed["groups"] == 50 + 600
    assert abs(mixed["precision"] - (1 - 50 / 650)) < 1e-3
    assert mixed["precision_lower_bound"] < mixed["precision"] < 0.99


def _in_turn_rows(addresses: int) -> list[tuple[I, str, str | None, int]]:
    """Addresses used by two people one after the other (a hotel room, a reassigned
    home IP), each with a browser of two successive cookies; their user agents come
    from ten versions, every combination equally often: a tenth of the addresses
    hold two people with the same user agent, and their four cookies follow one
    another like one browser's."""
    rows = []
    for n in range(addresses):
        ip = f"75.0.{n // 250}.{n % 250}"
        for guest, ua in enumerate((f"UA/{n % 10}", f"UA/{n // 10 % 10}")):
            start = 20 * guest
            rows += seen(cookie(f"g{n}-{guest}-1"), ip, ua, start, start + 3)
            rows += seen(cookie(f"g{n}-{guest}-2"), ip, ua, start + 5, start + 8)
    return rows


def test_estimate_counts_look_alikes_who_used_an_address_in_turn() -> None:
    """Their lifetimes never overlap, so no overlapping group reveals them: the
    estimate counts them from the pairs of different user agents seen in turn and
    how often two unrelated browsers share a user agent."""
    homes = []  # housemates using two browsers of the same ten versions at once
    for n in range(100):
        ip = f"76.0.0.{n}"
        for k, ua in enumerate((f"UA/{n % 10}", f"UA/{(n + 1) % 10}")):
            homes += seen(cookie(f"h{n}-{k}-1"), ip, ua, k, k + 3)
            homes += seen(cookie(f"h{n}-{k}-2"), ip, ua, k + 5, k + 8)
    chains = browser_chains(identifier_histories(homes + _in_turn_rows(200)))
    # 20 of the 200 addresses: one group of two people; 180: two groups of one each
    wrong, right = 20, 200 + 2 * 180
    assert chains.groups == wrong + right and chains.overlapping == 0
    estimate = lookalike_estimate(chains)
    assert abs(estimate["in_turn"] - wrong) < 2
    assert abs(estimate["precision"] - right / (wrong + right)) < 0.005
    assert estimate["precision_lower_bound"] < right / (wrong + right) < 0.99
    alone = lookalike_estimate(browser_chains(identifier_histories(homes)))
    assert alone["precision"] == 1.0


def _big_homes(homes: int, look_alike: bool) -> list[tuple[I, str, str | None, int]]:
    """Homes with ten browsers each (more user agents than the narrowest home
    definition); each browser's two cookies follow one another. With ``look_alike``,
    two of each home's browsers share a user agent and are used at the same time."""
    rows = []
    for n in range(homes):
        ip = f"74.0.{n // 250}.{n % 250}"
        for k in range(10):
            ua = f"UA/{n}.{k}"
            rows += seen(cookie(f"b{n}-{k}-1"), ip, ua, 2 * k, 2 * k + 3)
            rows += seen(cookie(f"b{n}-{k}-2"), ip, ua, 2 * k + 5, 2 * k + 8)
        if look_alike:
            rows += seen(cookie(f"b{n}-twin"), ip, f"UA/{n}.0", 1, 6)
    return rows


def test_homes_widen_while_the_data_supports_it() -> None:
    small = _home_rows(0, 400)
    wide, estimate = home_chains(identifier_histories(small + _big_homes(60, False)), 0.99)
    assert estimate["home_max_agents"] == 24 and all(b["added"] for b in estimate["bands"])
    assert any(order[0].value.startswith("b0-") for order in wide.chains)
    # where the bigger homes' look-alike browsers overlap, their band is refused and
    # the narrow homes' chains stand alone
    narrow, refused = home_chains(identifier_histories(small + _big_homes(60, True)), 0.99)
    assert refused["home_max_agents"] == 8
    assert [b["added"] for b in refused["bands"]] == [True, False]
    assert refused["bands"][1]["precision"] < 0.99
    assert not any(order[0].value.startswith("b") for order in narrow.chains)
    assert refused["precision_lower_bound"] >= 0.99  # the narrow homes still link


def test_no_widening_when_the_narrowest_homes_fail() -> None:
    _, estimate = home_chains(_homes(100, 300), 0.99)
    assert estimate["home_max_agents"] == 8 and len(estimate["bands"]) == 1


def test_the_card_says_how_many_look_alikes_in_turn_were_counted() -> None:
    estimate = {
        **lookalike_estimate(browser_chains(identifier_histories(_in_turn_rows(200)))),
        "target": 0.99,
        "reached": False,
        "accepted": 0,
    }
    why = browser_why(estimate)
    assert f"about {estimate['in_turn']:.0f} groups hide two people" in why
    assert "no browser chains" in why
    # a card written before they were counted still reads
    older = {k: v for k, v in estimate.items() if k not in ("in_turn", "agent_collision")}
    assert "hide two people" not in browser_why(older)


def _two_groups() -> tuple[BrowserChains, list[list[I]], list[Link]]:
    """A home's two browsers: a, b, c (c logged in: the customer's) and d, e."""
    a, b, c, d, e = (cookie(n) for n in "abcde")
    histories = identifier_histories(
        seen(a, HOME, FIREFOX, 1) + seen(b, HOME, FIREFOX, 3) + seen(c, HOME, FIREFOX, 5)
        + seen(d, HOME, SAFARI, 1) + seen(e, HOME, SAFARI, 4)
    )  # fmt: skip
    chains = browser_chains(histories)
    customer = [c, I("email", "mum@example.com"), I("phone", "+15550100"), I("user_id", "m")]
    clusters = [[a], [b], customer, [d], [e]]
    return chains, clusters, chain_links(chains, clusters)


def test_a_wrong_group_costs_at_most_half_the_profile_it_ends_in() -> None:
    chains, clusters, links = _two_groups()
    # a, b join the customer's four (six in all: at most 3 wrong); d and e two (1)
    assert wrong_group_cost(chains, clusters, links) == 3 + 1
    # without the links each group is costed where it stands
    assert wrong_group_cost(chains, clusters, []) == 2 + 0.5


def _decision(lower_bound: float, others: int, room: float | None = None) -> dict[str, Any]:
    """The browser decision on 800 look-alike-free homes' chains (four cookies each)
    with an estimate of ``lower_bound``, beside ``others`` identifiers of their own."""
    chains = browser_chains(_homes(0, 400))
    cookies = sorted({m for order in chains.chains for m in order})
    clusters = [[m] for m in cookies] + [[I("user_id", f"u{n}")] for n in range(others)]
    links = chain_links(chains, clusters)
    estimate = {"precision": lower_bound + 0.01, "precision_lower_bound": lower_bound}
    return browser_decision(estimate, chains, clusters, links, target=0.99, floor=0.9,
                            profile_precision=0.995, room=room)  # fmt: skip


def test_chains_under_the_bar_link_when_their_wrong_groups_fit_the_room() -> None:
    # 800 groups of four cookies: each wrong one costs at most 2; 5% of them is 80
    by_bar = _decision(0.995, 0)
    assert by_bar["by"] == "precision" and by_bar["wrong_groups_cost"] is None  # not costed
    assert by_bar["kept"] is None
    big = _decision(0.95, 20_000)  # 23,200 leave 116
    assert big["reached"] and big["by"] == "budget" and big["kept"] is None  # all of them
    assert "which fits the 116.0" in browser_why(
        {**lookalike_estimate(browser_chains(_homes(0, 400))), **big, "target": 0.99,
         "precision": 0.96, "precision_lower_bound": 0.95, "accepted": 2400}
    )  # fmt: skip
    # under the floor, whatever the room
    under = _decision(0.85, 100_000)
    assert not under["reached"] and under["wrong_groups_cost"] is None
    assert _chains_refused({**under, "precision_lower_bound": 0.85}).startswith(
        "it is under the floor 0.9"
    )
    refused = {**under, "precision_lower_bound": 0.95, "wrong_groups_cost": 80.0, "room": 16.0}
    assert "(80.0) exceeds the room" in _chains_refused(refused)


def test_chains_whose_wrong_groups_exceed_the_room_link_as_many_groups_as_it_holds() -> None:
    # 3,200 identifiers leave 16 under 0.995: at 5% wrong, groups costing 320 at most,
    # 160 of the 800 (2 each); refusing them all made recall fall a cliff (Round 11)
    small = _decision(0.95, 0)
    assert small["reached"] and small["by"] == "budget"
    assert small["wrong_groups_cost"] == 80.0 and small["room"] == 16.0
    assert small["kept"] == {"groups": 160, "of": 800, "cost_cap": 2.0, "wrong_groups_cost": 16.0}
    chains = browser_chains(_homes(0, 400))
    cookies = sorted({m for order in chains.chains for m in order})
    clusters = [[m] for m in cookies]
    kept = kept_chains(chains, clusters, chain_links(chains, clusters), small)
    assert len(kept.chains) == 160 and all(order in chains.chains for order in kept.chains)
    assert len(chain_links(kept, clusters)) == 160 * 3
    why = browser_why({**lookalike_estimate(chains), **small, "target": 0.99, "precision": 0.96,
                       "precision_lower_bound": 0.95, "accepted": 480})  # fmt: skip
    assert "which exceeds the 16.0" in why and "applied: the 160 of 800 groups" in why
    # not one group fits: refused
    none = _decision(0.95, 0, room=0.05)  # under one group's 2 at 5%
    assert not none["reached"] and none["kept"] is None


def test_the_groups_kept_are_those_whose_wrong_one_would_cost_least() -> None:
    # a chain reaching a logged-in cookie costs half the customer's profile; a chain of
    # anonymous cookies half its own: the room takes the cheap ones first
    chains, clusters, links = _two_groups()
    estimate = {"precision": 0.96, "precision_lower_bound": 0.95}
    # the groups cost 3 (a, b, c into the customer's six) and 1 (d, e): 5% of 4 is 0.2
    decision = browser_decision(estimate, chains, clusters, links, target=0.99, floor=0.9,
                                profile_precision=0.995, room=0.1)  # fmt: skip
    assert decision["kept"] == {"groups": 1, "of": 2, "cost_cap": 1.0, "wrong_groups_cost": 0.05}
    kept = kept_chains(chains, clusters, links, decision)
    assert kept.chains == [[cookie("d"), cookie("e")]]


def test_look_alike_browsers_refuse_the_device_family_too() -> None:
    alike = {"groups": 900, "precision": 0.905, "precision_lower_bound": 0.897}
    why = look_alike_browsers(alike, 0.9)
    assert why.startswith("refused: browser chains find look-alike browsers (precision 0.8970")
    assert family_why("device", {"refused": why, "reached": False, "target": 0.995}).endswith(
        "this family links nothing"
    )
    assert look_alike_browsers({**alike, "precision_lower_bound": 0.9}, 0.9) == ""
    # no browser seen at a home (an app's devices only): the chains say nothing
    assert look_alike_browsers({**alike, "groups": 0, "precision_lower_bound": 0.0}, 0.9) == ""


def test_the_day_s_look_alike_browsers_refuse_the_model_s_families_at_resolve() -> None:
    """A model trained where browsers could be told apart keeps its thresholds; on a
    day whose chains find look-alike browsers, resolve uses neither family's (the
    profile family's simulated decisions were 14 points above the truth there)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, len(FEATURES)))
    model = LinkModel(max_iter=5).fit(X, (X[:, 0] > 0).astype(int))
    model.thresholds_ = {"browser": 1.01, "profile": 0.0, "device": 0.0}  # every pair links
    customer = [I("user_id", "u1"), I("email", "u1@example.com")]
    for look_alike, refused in ((200, True), (0, False)):
        rows = _home_rows(look_alike, 400 - look_alike)
        # an identified housemate at the first home: a profile to link to
        rows += seen(customer[0], "73.0.0.0", FIREFOX, 1, 12)
        histories = identifier_histories(rows)
        clusters = [[i] for i in sorted(histories) if i not in customer] + [customer]
        stats = propose_links(clusters, histories, model, LinkingSettings()).stats
        for family in ("profile", "device"):
            assert stats[family]["pairs"] > 0, family
            assert bool(stats[family].get("refused")) is refused, family
            assert (stats[family]["accepted"] == 0) is refused, stats[family]


def test_a_sample_s_chains_under_the_bar_are_left_to_resolve() -> None:
    """Trained on a sample of the graph (ml/sampling.py), the chains' estimate comes from
    a share of the homes, wider than all of them would give: over the floor, `resolve`
    decides on the whole graph; under it, they are refused as on the whole graph."""
    from ml.sampling import GraphSample
    from ml.training import browser_family

    histories = _homes(0, 400)
    chains = browser_chains(histories)
    cookies = sorted({m for order in chains.chains for m in order})
    clusters = [[m] for m in cookies]
    settings = LinkingSettings()
    # 3,200 identifiers of a graph of 32,000 at a tenth of its homes: room 16 (of 160)
    sample = GraphSample(share=0.1, identifiers=32_000)

    def family(bound: float, sampled: GraphSample | None) -> dict[str, Any]:
        estimate = {**lookalike_estimate(chains), "precision": bound + 0.01,
                    "precision_lower_bound": bound}  # fmt: skip
        return browser_family(clusters, histories, settings, homes=(chains, estimate),
                              sample=sampled)  # fmt: skip

    # its wrong groups (80) exceed the whole graph's room (16): the 160 groups it holds
    whole = family(0.95, None)
    assert whole["reached"] and whole["room"] == 16.0 and whole["kept"]["groups"] == 160
    assert whole["accepted"] == 160 * 3
    left = family(0.95, sample)  # on a sample, how many groups is resolve's to say
    assert left["reached"] and left["by"] == "resolve" and left["room"] == 16.0
    assert left["kept"] is None and left["accepted"] == 800 * 3
    assert "`resolve` decides on the whole graph" in browser_why({**left, "target": 0.99})
    assert not family(0.85, sample)["reached"]  # under the floor
    assert family(0.995, sample)["by"] == "precision"


def test_resolve_applies_only_the_groups_the_room_holds() -> None:
    """At `resolve` (propose_links) the decision is taken again on the day's data, and
    only the kept groups' links apply: 10 of 400 homes with look-alike browsers put the
    chains under the bar (0.988) and their cost (19.5) over the room (16)."""
    X = np.random.default_rng(0).random((40, len(FEATURES)))
    model = LinkModel(max_iter=5).fit(X, (X[:, 0] > 0.5).astype(int))
    model.thresholds_ = {"browser": 0.0, "profile": 1.01, "device": 1.01}  # chains trained
    histories = _homes(10, 390)
    clusters = [[i] for i in sorted(histories)]
    proposal = propose_links(clusters, histories, model, LinkingSettings())
    browser = proposal.stats["browser"]
    assert browser["applied"] and browser["by"] == "budget"
    assert browser["wrong_groups_cost"] > browser["room"] == 16.0
    kept = browser["kept"]
    assert 0 < kept["groups"] < kept["of"] and kept["wrong_groups_cost"] <= 16.0
    # three links a kept group of four cookies, none from the others
    assert len(proposal.links) == browser["accepted"] == 3 * kept["groups"]
