from __future__ import annotations

import random
from itertools import count

import networkx as nx
import pytest

from graph.clustering import assign_profile_ids, connected_components, new_profile_id


def test_components_with_singletons_largest_first() -> None:
    nodes = ["a", "b", "c", "d", "e", "f"]
    components = connected_components(nodes, [("a", "b"), ("c", "d"), ("d", "e")])
    assert components == [["c", "d", "e"], ["a", "b"], ["f"]]


def test_edges_to_unknown_nodes_are_ignored_and_empty_graph() -> None:
    assert connected_components(["a"], [("a", "zzz")]) == [["a"]]
    assert connected_components([], []) == []


@pytest.mark.parametrize("seed", range(5))
def test_matches_networkx_and_ignores_edge_order(seed: int) -> None:
    rng = random.Random(seed)
    nodes = list(range(500))
    edges = [(rng.randrange(500), rng.randrange(500)) for _ in range(350)]
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    expected = sorted(sorted(c) for c in nx.connected_components(graph))
    ours = connected_components(nodes, edges)
    assert sorted(sorted(c) for c in ours) == expected
    rng.shuffle(edges)
    assert connected_components(nodes, edges) == ours


def _ids() -> object:
    counter = count()
    return lambda: f"new{next(counter)}"


def test_unchanged_components_keep_their_ids() -> None:
    components = [["a", "b"], ["c"]]
    current = {"a": "p1", "b": "p1", "c": "p2"}
    assert assign_profile_ids(components, current, new_id=_ids()) == ["p1", "p2"]  # type: ignore[arg-type]


def test_merge_keeps_the_id_holding_most_members() -> None:
    components = [["a", "b", "c"]]
    current = {"a": "p2", "b": "p1", "c": "p1"}
    assert assign_profile_ids(components, current, new_id=_ids()) == ["p1"]  # type: ignore[arg-type]


def test_split_gives_the_id_to_the_larger_part() -> None:
    components = [["a", "b"], ["c"]]
    current = {"a": "p1", "b": "p1", "c": "p1"}
    assert assign_profile_ids(components, current, new_id=_ids()) == ["p1", "new0"]  # type: ignore[arg-type]


def test_ties_are_broken_by_id_not_by_order() -> None:
    current = {"a": "p2", "b": "p1"}
    assert assign_profile_ids([["a", "b"]], current, new_id=_ids()) == ["p1"]  # type: ignore[arg-type]
    assert assign_profile_ids([["b", "a"]], current, new_id=_ids()) == ["p1"]  # type: ignore[arg-type]


def test_new_ids_are_opaque_and_unique() -> None:
    ids = {new_profile_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("prf_") and len(i) == 24 for i in ids)
