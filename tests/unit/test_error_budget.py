"""The profiles' precision target as an error budget (ml/error_budget.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.error_budget import Budget, allocate, budget_for, spending
from ml.model import precision_curve
from ml.model_card import family_why

FLOORS = {"profile": 0.9, "device": 0.9, "other": 0.9}


def _curve(right: int, wrong: int) -> list[dict[str, float]]:
    """Decisions scored so that the wrong ones sit among the lowest scores."""
    scores = np.linspace(1.0, 0.0, right + wrong)
    labels = np.array([1] * right + [0] * wrong)
    rng = np.random.default_rng(0)
    tail = slice(right // 2, right + wrong)  # wrong ones mixed into the lower half
    labels[tail] = rng.permutation(labels[tail])
    return precision_curve(scores, labels)


def test_the_budget_follows_the_graph() -> None:
    clusters = [["a", "b", "c"], ["d"], ["e", "f"], ["g"]]
    budget = budget_for(clusters, [1, 2, 3], target=0.995, share=0.5)
    assert budget.items == 7 and budget.queries == 3
    assert budget.cluster_size == pytest.approx(4 / 3)
    assert budget.total == pytest.approx(0.005 * 7 * 0.5)
    assert budget.cost == pytest.approx(8 / 3)  # a wrong link moves a cluster: 2a at most
    assert budget_for(clusters, [], target=0.995, share=0.5).cluster_size == 1.0


def test_a_family_spends_what_its_wrong_links_cost() -> None:
    curve = _curve(900, 100)
    budget = Budget(items=10_000, target=0.995, share=0.5, queries=500, cluster_size=1.0)
    points = spending(curve, simulated_queries=1000, budget=budget)
    last = points[-1]  # everything accepted: one decision for each anonymous cluster
    assert last["decisions"] == pytest.approx(500)
    assert last["wrong"] == pytest.approx(500 * (1 - last["precision_lower_bound"]))
    assert last["spent"] == pytest.approx(2 * last["wrong"])
    half = next(p for p in points if p["accepted"] == 500)
    assert half["decisions"] == pytest.approx(250)


def test_decisions_counted_on_the_graph_replace_the_simulated_rate() -> None:
    curve = _curve(900, 100)
    budget = Budget(items=10_000, target=0.995, share=0.5, queries=500, cluster_size=1.0)
    # the graph's own anonymous clusters would link at these scores (a sample of 1 in 2)
    decided = [0.99, 0.97, 0.95, 0.6, 0.3]
    points = spending(curve, simulated_queries=1000, budget=budget, decided=decided, scale=2.0)
    for point in points:
        above = sum(1 for s in decided if s >= point["threshold"])
        assert point["decisions"] == pytest.approx(2.0 * above)
        assert point["wrong"] == pytest.approx(
            point["decisions"] * (1 - point["precision_lower_bound"])
        )
    # fewer decisions than simulated: the same bar spends less, so a lower one fits
    simulated = spending(curve, 1000, budget)
    assert points[-1]["spent"] < simulated[-1]["spent"]
    tight = Budget(items=10_000, target=0.999, share=0.5, queries=500, cluster_size=1.0)
    counted = allocate({"device": spending(curve, 1000, tight, decided=decided, scale=2.0)},
                       tight, floors=FLOORS)["device"]  # fmt: skip
    rated = allocate({"device": spending(curve, 1000, tight)}, tight, floors=FLOORS)["device"]
    assert counted.links and counted.threshold <= rated.threshold
    # never more decisions than anonymous clusters
    capped = spending(curve, 1000, budget, decided=[0.99] * 10, scale=100.0)
    assert max(p["decisions"] for p in capped) == 500


def test_the_bar_falls_when_decisions_are_few_and_rises_when_many() -> None:
    curve = _curve(900, 100)
    few = Budget(items=10_000, target=0.995, share=0.5, queries=100, cluster_size=1.0)
    many = Budget(items=10_000, target=0.995, share=0.5, queries=2_000, cluster_size=1.0)
    on_few = allocate({"device": spending(curve, 1000, few)}, few, floors=FLOORS)["device"]
    on_many = allocate({"device": spending(curve, 1000, many)}, many, floors=FLOORS)["device"]
    assert on_few.links and on_many.links
    assert on_few.precision_lower_bound < on_many.precision_lower_bound
    assert on_few.decisions > on_many.decisions / 20  # a larger share of its queries
    for choice in (on_few, on_many):
        assert choice.spent <= choice.allowed
    # bigger clusters cost more when wrong: a higher bar
    big = Budget(items=10_000, target=0.995, share=0.5, queries=100, cluster_size=4.0)
    on_big = allocate({"device": spending(curve, 1000, big)}, big, floors=FLOORS)["device"]
    assert on_big.precision_lower_bound > on_few.precision_lower_bound


def test_no_room_or_no_good_decision_links_nothing() -> None:
    curve = _curve(900, 100)
    strict = Budget(items=10_000, target=0.99999, share=0.5, queries=500, cluster_size=1.0)
    assert not allocate({"profile": spending(curve, 1000, strict)}, strict,
                        floors=FLOORS)["profile"].links  # fmt: skip
    # plenty of room, but decisions right less than 9 times in 10 are never made
    coin = precision_curve(np.linspace(1, 0, 400), np.array([1, 0] * 200))
    loose = Budget(items=1_000_000, target=0.995, share=0.5, queries=10, cluster_size=1.0)
    assert not allocate({"device": spending(coin, 400, loose)}, loose, floors=FLOORS)[
        "device"
    ].links


def test_the_split_goes_where_it_buys_most_right_links() -> None:
    good, poor = _curve(990, 10), _curve(700, 300)
    budget = Budget(items=20_000, target=0.995, share=0.5, queries=1_000, cluster_size=1.0)
    families = {"profile": spending(poor, 1000, budget), "device": spending(good, 1000, budget)}
    chosen = allocate(families, budget, floors=FLOORS)
    assert chosen["device"].links
    assert chosen["device"].allowed >= chosen["profile"].allowed
    assert chosen["device"].allowed + chosen["profile"].allowed == pytest.approx(budget.total)
    assert chosen["device"].spent + chosen["profile"].spent <= budget.total + 1e-9
    # a family held to a higher floor than its decisions reach leaves its part to the other
    held = allocate(families, budget, floors={"profile": 0.99, "device": 0.9})
    assert not held["profile"].links
    assert held["device"].allowed == pytest.approx(budget.total)
    assert held["device"].decisions >= chosen["device"].decisions
    with pytest.raises(ValueError):
        allocate({**families, "other": families["device"]}, budget, floors=FLOORS)


def test_the_card_explains_the_bar() -> None:
    budget = {"profile_precision": 0.995, "items": 8000, "anonymous_clusters": 700,
              "cost_of_a_wrong_link": 2.4, "total": 20.0, "allowed": 12.0,
              "expected_links": 300.0, "expected_wrong_at_most": 4.9, "spent": 11.8,
              "bar": 0.9837}  # fmt: skip
    estimate = {"target": 0.995, "reached": True, "precision": 0.993, "recall": 0.4,
                "accepted": 310, "budget": budget}  # fmt: skip
    why = family_why("profile", estimate)
    assert "at most 4.9 of 300" in why and "12.0 of the 20.0 identifier-shares" in why
    assert "profile precision 0.995" in why and "0.9837" in why
    refused = {**estimate, "reached": False,
               "best_reachable": {"precision_lower_bound": 0.95, "recall": 0.1}}  # fmt: skip
    assert "fit its part of the error budget" in family_why("device", refused)
    assert "links nothing" in family_why("device", refused)
    # the family's floor, when the card has one, is part of the reason
    floored = {**refused, "budget": {**budget, "floor": 0.99}}
    assert "right at least 0.99 of the time" in family_why("profile", floored)
    assert "floor" not in family_why("profile", refused)
