from __future__ import annotations

from graph.ingest.batches import build_batch
from graph.ingest.events import Event, Identifier


def ev(event_id: str, ts: int, source: str, *ids: tuple[str, str]) -> Event:
    return Event(event_id, ts, source, "view", tuple(sorted(Identifier(*i) for i in ids)))


def test_pairs_are_aggregated_once_per_batch() -> None:
    batch = build_batch(
        [
            ev("e1", 1000, "web", ("email", "a@x.com"), ("cookie_id", "c1"), ("ip", "1.1.1.1")),
            ev("e2", 3000, "app", ("email", "a@x.com"), ("cookie_id", "c1")),
            ev("e3", 2000, "web", ("cookie_id", "c1"), ("email", "a@x.com")),
        ]
    )
    assert sorted((r["type"], r["value"]) for r in batch.identifiers) == [
        ("cookie_id", "c1"),
        ("email", "a@x.com"),
        ("ip", "1.1.1.1"),
    ]
    assert len(batch.events) == 3
    assert batch.seen == 7
    assert batch.events[0]["seen"] == [["cookie_id", "c1"], ["email", "a@x.com"], ["ip", "1.1.1.1"]]
    edges = {(r["a_value"], r["b_value"]): r for r in batch.edges}
    assert set(edges) == {("c1", "a@x.com"), ("c1", "1.1.1.1"), ("a@x.com", "1.1.1.1")}
    pair = edges[("c1", "a@x.com")]
    assert (pair["count"], pair["first_seen"], pair["last_seen"], pair["sources"]) == (
        3,
        1000,
        3000,
        ["app", "web"],
    )
    # the smaller (type, value) key is always first: one edge per pair
    for row in batch.edges:
        assert (row["a_type"], row["a_value"]) < (row["b_type"], row["b_value"])


def test_single_identifier_events_have_no_edges() -> None:
    batch = build_batch([ev("e1", 1, "web", ("cookie_id", "c1"))])
    assert batch.edges == [] and len(batch.identifiers) == 1 and batch.size == 3


def test_empty_batch() -> None:
    assert build_batch([]).size == 0
