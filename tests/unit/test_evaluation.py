from __future__ import annotations

from pathlib import Path

import pytest

from graph.ingest.events import Identifier as I
from ml.evaluation import evaluate, read_truth

A1, A2, B1, B2 = I("email", "a1"), I("user_id", "a2"), I("email", "b1"), I("user_id", "b2")
TRUTH = {A1: {"A"}, A2: {"A"}, B1: {"B"}, B2: {"B"}}


def test_perfect() -> None:
    q = evaluate({A1: "p", A2: "p", B1: "q", B2: "q"}, TRUTH)
    assert (q.bcubed_precision, q.bcubed_recall, q.pairwise_f1) == (1.0, 1.0, 1.0)
    assert (q.over_merged_profiles, q.fragmentation, q.split_persons) == (0, 1.0, 0)


def test_everything_merged() -> None:
    q = evaluate({A1: "p", A2: "p", B1: "p", B2: "p"}, TRUTH)
    assert q.bcubed_precision == pytest.approx(0.5)
    assert q.bcubed_recall == 1.0
    assert q.pairwise_precision == pytest.approx(2 / 6)
    assert q.over_merged_profiles == 1 and q.over_merge_rate == 1.0
    assert q.largest_profile == 4


def test_everything_split_and_missing_items_are_singletons() -> None:
    q = evaluate({A1: "p"}, TRUTH)
    assert q.bcubed_precision == 1.0 and q.bcubed_recall == pytest.approx(0.5)
    assert q.pairwise_recall == 0.0 and q.split_persons == 2 and q.fragmentation == 2.0


def test_shared_values_are_excluded_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text(
        "type,value,person_id\nemail,a1,A\ndevice_id,tab,A\ndevice_id,tab,B\nemail,b1,B\n"
    )
    truth = read_truth(path)
    assert truth[I("device_id", "tab")] == {"A", "B"}
    q = evaluate({I("email", "a1"): "p", I("device_id", "tab"): "p", I("email", "b1"): "q"}, truth)
    assert (q.items, q.excluded, q.over_merged_profiles) == (2, 1, 0)


def test_merged_and_mixed_persons_and_anonymous_devices_linked() -> None:
    from ml.evaluation import anonymous_linked, merged_persons

    cookie_b, cookie_a = I("cookie_id", "cb"), I("cookie_id", "ca")
    truth = {**TRUTH, cookie_b: {"B"}, cookie_a: {"A"}}
    # B's anonymous cookie in A's profile: a mixed profile, but no two customers merged
    wrong_cookie = {A1: "p", A2: "p", cookie_b: "p", B1: "q", B2: "q", cookie_a: "r"}
    assert merged_persons(wrong_cookie, truth) == 0
    assert merged_persons(wrong_cookie, truth, types=None) == 2
    # two customers' identities in one profile
    assert merged_persons({A1: "p", B1: "p", A2: "x", B2: "y"}, truth) == 2
    # anonymous devices: never seen with an identity identifier (B's cookie was, in a
    # login with B's e-mail, so it does not count); A's cookie is in no profile of A
    links = [(cookie_b, B1)]
    assert anonymous_linked(wrong_cookie, truth, links) == (0.0, 1)
    assert anonymous_linked({**wrong_cookie, cookie_a: "p"}, truth, links) == (1.0, 1)
