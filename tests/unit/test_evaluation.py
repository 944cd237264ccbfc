from __future__ import annotations

from pathlib import Path

import pytest

from graph.events import Identifier as I
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
