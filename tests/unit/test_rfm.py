"""RFM quintiles and groups (pure)."""

from __future__ import annotations

import pytest

from graph.profiles.rfm import DAY_MS, GROUPS, Purchaser, quintiles, rfm_group, score_purchasers


def test_distinct_values_fill_five_equal_quintiles() -> None:
    scores = quintiles(list(range(100)))
    assert [scores.count(s) for s in range(1, 6)] == [20, 20, 20, 20, 20]
    assert scores[0] == 1 and scores[-1] == 5
    assert scores == sorted(scores)


def test_ties_share_the_lower_score_whatever_the_order() -> None:
    values = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5]  # 60% bought once
    scores = quintiles(values)
    assert scores[:6] == [1] * 6
    assert scores[6:] == [4, 4, 5, 5]
    assert quintiles(list(reversed(values))) == list(reversed(scores))


def test_no_purchasers() -> None:
    assert quintiles([]) == [] and score_purchasers([], as_of=0) == []


@pytest.mark.parametrize(
    "r, f, m, group",
    [
        (5, 5, 5, "Champions"),
        (5, 1, 1, "New"),
        (4, 5, 4, "Loyal"),
        (4, 2, 3, "Potential loyalists"),
        (4, 1, 1, "Promising"),
        (3, 3, 3, "Need attention"),
        (3, 1, 2, "About to sleep"),
        (1, 5, 5, "Cannot lose them"),
        (2, 3, 4, "At risk"),
        (2, 1, 1, "Hibernating"),
        (1, 1, 2, "Lost"),
    ],
)
def test_groups(r: int, f: int, m: int, group: str) -> None:
    assert rfm_group(r, f, m) == group


def test_every_cell_of_the_grid_is_a_known_group() -> None:
    found = {rfm_group(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert found == set(GROUPS)


def test_recency_counts_whole_days_to_the_reference_date() -> None:
    as_of = 100 * DAY_MS
    buyers = [
        Purchaser("a", as_of - 1, 1, 10.0),  # bought today
        Purchaser("b", as_of - 3 * DAY_MS - 5, 4, 400.0),
        Purchaser("c", as_of - 40 * DAY_MS, 2, 50.0),
        Purchaser("d", as_of - 90 * DAY_MS, 1, 5.0),
        Purchaser("e", as_of - 10 * DAY_MS, 9, 900.0),
    ]
    scored = {s.profile_id: s for s in score_purchasers(buyers, as_of)}
    assert scored["a"].recency_days == 0 and scored["b"].recency_days == 3
    assert scored["a"].r == 5 and scored["d"].r == 1
    assert scored["e"].f == 5 and scored["e"].m == 5 and scored["e"].score == "355"
    assert scored["d"].group == "Lost"
