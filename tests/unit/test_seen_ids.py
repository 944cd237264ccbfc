"""The event IDs one ingest remembers (graph/ingest/seen.py)."""

from __future__ import annotations

from graph.ingest.seen import SeenEventIds


def test_the_newest_are_known_and_older_ones_found_by_their_digests() -> None:
    seen = SeenEventIds(recent=10, older=1_000_000)
    ids = [f"e{n}" for n in range(20_000)]  # several merges of the digests
    for start in range(0, len(ids), 100):
        seen.add(ids[start : start + 100])
    assert all(i in seen for i in ids[-10:])
    assert not any(i in seen for i in ids[:-10])
    asked = ids[:50] + ids[-5:] + [f"new{n}" for n in range(1_000)] + ["é\ud800"]
    # the older are found (not the newest: those are dropped as they are parsed), the
    # new ones are not
    assert seen.older_among(asked) == ids[:50]
    assert seen.older_among(ids) == ids[:-10]


def test_the_newest_digests_are_found_before_they_are_merged() -> None:
    seen = SeenEventIds(recent=2, older=100)
    seen.add(["a", "b", "c"])
    assert seen.older_among(["a", "b", "z"]) == ["a"]


def test_beyond_its_capacity_older_ids_are_forgotten() -> None:
    seen = SeenEventIds(recent=1, older=3)
    seen.add([f"e{n}" for n in range(10)])
    assert seen.older_among([f"e{n}" for n in range(10)]) == ["e0", "e1", "e2"]
    assert SeenEventIds(recent=1, older=0).older_among(["e0"]) == []
