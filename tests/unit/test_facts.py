"""Profile facts from aggregated events (pure)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from graph.profiles.facts import (
    FactInput,
    added_facts,
    fact_input,
    profile_facts,
    trait_property,
)


def _input(**changes: object) -> FactInput:
    base = FactInput(
        profile_id="prf_1",
        event_count=5,
        first_seen=1_000,
        last_seen=9_000,
        sources=["web", "pos", "web", ""],
        types={"login": 1, "purchase": 3, "page_view": 1, "": 2, "refund": 0},
        purchases=[(2_000, 10.0, "USD"), (5_000, 30.5, "USD"), (3_000, None, None)],
        traits=[
            (4_000, json.dumps({"city": "Lyon", "first_name": "Ann"})),
            (8_000, json.dumps({"city": "Paris"})),
            (1_000, json.dumps({"city": "Nice", "vip": True})),
        ],
        previous_trait_keys=["city", "loyalty_tier"],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_purchases_counts_and_span() -> None:
    facts = profile_facts(_input())
    assert facts.event_count == 5 and (facts.first_seen, facts.last_seen) == (1_000, 9_000)
    assert facts.sources == ["pos", "web"]
    assert facts.events_by_type == {"login": 1, "page_view": 1, "purchase": 3}
    # a purchase without an amount counts as a purchase, adds nothing to the total,
    # and is left out of the average
    assert facts.purchase_count == 3
    assert facts.purchase_total == 40.5
    assert facts.purchase_avg == 20.25
    assert facts.last_purchase == 5_000
    assert facts.currencies == ["USD"]


def test_latest_value_of_each_trait_with_its_time() -> None:
    facts = profile_facts(_input())
    assert facts.traits == {
        "city": {"value": "Paris", "observed_at": 8_000},
        "first_name": {"value": "Ann", "observed_at": 4_000},
        "vip": {"value": True, "observed_at": 1_000},
    }


def test_properties_remove_traits_the_profile_no_longer_has() -> None:
    props = profile_facts(_input()).properties(now=7, previous_trait_keys=["city", "tier"])
    assert props[trait_property("city")] == "Paris"
    assert props[trait_property("vip")] is True
    assert props[trait_property("tier")] is None  # removed from the node
    assert props["trait_keys"] == ["city", "first_name", "vip"]
    assert props["facts_at"] == 7


def test_no_events_no_purchases() -> None:
    facts = profile_facts(
        _input(
            event_count=0,
            first_seen=None,
            last_seen=None,
            sources=[],
            types={},
            purchases=[],
            traits=[],
        )
    )
    assert facts.purchase_count == 0 and facts.purchase_avg is None
    assert facts.last_purchase is None and facts.traits == {}


def test_unreadable_traits_are_skipped() -> None:
    facts = profile_facts(_input(traits=[(1, "{not json"), (2, json.dumps(["a"]))]))
    assert facts.traits == {}


def test_a_store_row_grouped_by_event_type() -> None:
    # the store counts events per type; sources, purchases and traits come per type
    row = fact_input([
        "prf_1", ["city"], 4, 1_000, 9_000,
        [["web"], ["web", "pos"], []],
        [["page_view", 1], ["purchase", 2], [None, 1]],
        [[], [[2_000, 10.0, "USD"], [5_000, None, None]], []],
        [[[4_000, '{"city": "Lyon"}']], [], []],
        77, 12,
    ])  # fmt: skip
    assert row.types == {"page_view": 1, "purchase": 2}
    assert sorted(row.sources) == ["pos", "web", "web"]
    assert row.purchases == [(2_000, 10.0, "USD"), (5_000, None, None)]
    assert row.traits == [(4_000, '{"city": "Lyon"}')]
    facts = profile_facts(row)
    assert (facts.event_count, facts.purchase_count, facts.purchase_total) == (4, 2, 10.0)
    assert facts.sources == ["pos", "web"] and facts.traits["city"]["value"] == "Lyon"
    # a profile without events: one group, of no type
    empty = fact_input(["prf_2", None, 0, None, None, [[]], [[None, 0]], [[]], [[]], 5, None])
    assert profile_facts(empty).events_by_type == {} and empty.read_at == 5
    assert (row.sequence, empty.sequence) == (12, None)


def test_a_trait_observed_twice_at_one_time_takes_the_greater_value_in_any_order() -> None:
    at_once = [(5, json.dumps({"tier": "gold", "city": "Lyon"})), (5, json.dumps({"tier": "blue"}))]
    for order in (at_once, at_once[::-1]):
        traits = profile_facts(_input(traits=order)).traits
        assert traits["tier"] == {"value": "gold", "observed_at": 5}
        assert traits["city"] == {"value": "Lyon", "observed_at": 5}


def _events(rng: random.Random, n: int) -> list[dict[str, Any]]:
    return [
        {
            "ts": rng.randrange(1_000, 1_100),  # few times: many ties
            "type": rng.choice(["page_view", "purchase", "login"]),
            "source": rng.choice(["web", "pos", "app"]),
            "amount": rng.choice([None, 9.99, 10.0, 0.01, 120.5, 0.005, 1 / 3, 7, 1e30, 1e-300]),
            "currency": rng.choice([None, "USD", "EUR"]),
            "traits": rng.choice([None, {"tier": rng.choice(["gold", "blue", None, 3])},
                                  {"city": rng.choice(["Lyon", "Nice"]), "vip": True}]),
        }
        for _ in range(n)
    ]  # fmt: skip


def _aggregated(events: list[dict[str, Any]]) -> FactInput:
    """What the store's fact queries make of some events (one profile)."""
    types: dict[str, int] = {}
    for e in events:
        types[e["type"]] = types.get(e["type"], 0) + 1
    return FactInput(
        profile_id="prf_1",
        event_count=len(events),
        first_seen=min((e["ts"] for e in events), default=None),
        last_seen=max((e["ts"] for e in events), default=None),
        sources=[e["source"] for e in events],
        types=types,
        purchases=[
            (e["ts"], e["amount"], e["currency"]) for e in events if e["type"] == "purchase"
        ],
        traits=[(e["ts"], json.dumps(e["traits"])) for e in events if e["traits"]],
    )


#: the stored properties fact_deltas reads, in its order
STORED = ("event_count", "first_seen", "last_seen", "sources", "events_by_type",
          "purchase_count", "purchase_amounts", "purchase_sum", "last_purchase", "currencies",
          "traits")  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
def test_adding_new_events_to_stored_facts_gives_what_recomputing_gives(seed: int) -> None:
    rng = random.Random(seed)
    events = _events(rng, rng.randrange(0, 30))
    cut = rng.randrange(0, len(events) + 1)
    old = profile_facts(_aggregated(events[:cut])).properties(now=1)
    stored = [old[k] for k in STORED]
    added = added_facts(stored, _aggregated(events[cut:]))
    assert added is not None
    keys = old["trait_keys"]
    assert added.properties(now=2, previous_trait_keys=keys) == profile_facts(
        _aggregated(events)
    ).properties(now=2, previous_trait_keys=keys)


def test_facts_stored_without_what_adding_needs_are_recomputed() -> None:
    stored = [3, 1, 2, ["web"], "{}", 0, None, None, None, [], "{}"]  # an older idgraph's
    assert added_facts(stored, _aggregated([])) is None


def test_any_finite_amounts_sum_exactly_to_cents() -> None:
    facts = profile_facts(
        _input(purchases=[(1, 1e300, "USD"), (2, 0.015, "USD"), (3, 5e-324, None)])
    )
    props = facts.properties(now=1)
    assert props["purchase_total"] == 1e300 and props["purchase_amounts"] == 3
    small = profile_facts(_input(purchases=[(1, 0.005, "USD"), (2, 0.01, "USD")])).properties(now=1)
    assert (small["purchase_total"], small["purchase_avg"]) == (
        0.02,
        0.01,
    )  # 0.015, 0.0075: half up
