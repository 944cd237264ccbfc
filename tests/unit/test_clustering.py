from __future__ import annotations

import random

import networkx as nx
import pytest

from graph.resolve import clustering
from graph.resolve.clustering import connected_components, new_profile_id


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


@pytest.mark.parametrize("seed", range(3))
def test_small_and_large_graphs_are_split_alike(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # a union-find below SMALL_GRAPH nodes, scipy above: the same components
    rng = random.Random(seed)
    nodes = [f"n{i}" for i in range(3000)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(2500)]
    monkeypatch.setattr(clustering, "SMALL_GRAPH", 10**9)
    small = connected_components(nodes, edges)
    monkeypatch.setattr(clustering, "SMALL_GRAPH", 0)
    assert connected_components(nodes, edges) == small


def test_new_ids_are_opaque_and_unique() -> None:
    ids = {new_profile_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("prf_") and len(i) == 24 for i in ids)
