"""graph/heap.py: full collections made rare for a block, then as before."""

from __future__ import annotations

import gc

import pytest

from graph.heap import RARE_FULL_THRESHOLD, rare_full_collections


def test_full_collections_are_rare_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with rare_full_collections():
        assert gc.get_threshold() == (before[0], before[1], RARE_FULL_THRESHOLD)
        with rare_full_collections(50):  # nested: the rarer setting stays
            assert gc.get_threshold()[2] == RARE_FULL_THRESHOLD
        assert gc.get_threshold()[2] == RARE_FULL_THRESHOLD
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_when_the_work_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), rare_full_collections():
        raise RuntimeError("planning failed")
    assert gc.get_threshold() == before
