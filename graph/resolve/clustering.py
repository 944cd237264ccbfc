"""Clustering as pure functions: connected components and new profile IDs.

Nodes are any hashable keys; the functions never touch a store, so the API,
CLI, jobs and tests share them.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable, Iterable, Sequence
from typing import Protocol, TypeVar

import numpy as np

__all__ = ["SMALL_GRAPH", "Parents", "connected_components", "find_root", "new_profile_id"]

K = TypeVar("K", bound=Hashable)


class Parents(Protocol[K]):
    """A union-find forest: each node's parent, a root its own (a dict or a list)."""

    def __getitem__(self, node: K, /) -> K: ...

    def __setitem__(self, node: K, parent: K, /) -> None: ...


def find_root(parent: Parents[K], node: K) -> K:
    """The root of ``node``'s tree in ``parent``; the nodes on the way are hung on it
    directly (path compression: later finds take one step)."""
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:
        parent[node], node = root, parent[node]
    return root


def new_profile_id() -> str:
    """An opaque, random profile ID (``prf_`` + 20 hex digits)."""
    return "prf_" + secrets.token_hex(10)


#: below this many nodes components are found in Python: importing scipy's sparse
#: graphs costs ~0.4 s, more than a union-find over 20,000 nodes (~15 ms; the
#: incremental resolve and the real-time path plan graphs this small)
SMALL_GRAPH = 20_000


def connected_components(nodes: Sequence[K], edges: Iterable[tuple[K, K]]) -> list[list[K]]:
    """The connected components of an undirected graph, singletons included.

    ``nodes`` lists every node; edges whose ends are not in ``nodes`` are
    ignored. Components come out largest first, members in ``nodes`` order, so
    the result does not depend on the order of ``edges``.

    Cost: O(V + E) with scipy's sparse-graph routine (compared with networkx in
    bench/clustering.py; figures in docs/benchmarks.md); below :data:`SMALL_GRAPH`
    nodes a union-find in Python (the same result; scipy's import would cost more).
    """
    index = {node: i for i, node in enumerate(nodes)}
    rows: list[int] = []
    cols: list[int] = []
    for a, b in edges:
        ia, ib = index.get(a), index.get(b)
        if ia is not None and ib is not None:
            rows.append(ia)
            cols.append(ib)
    n = len(nodes)
    if n == 0:
        return []
    labels = _union_find(n, rows, cols) if n < SMALL_GRAPH else _scipy_labels(n, rows, cols)
    groups: dict[int, list[K]] = {}
    for node, label in zip(nodes, labels, strict=True):
        groups.setdefault(label, []).append(node)
    return sorted(groups.values(), key=lambda members: (-len(members), index[members[0]]))


def _union_find(n: int, rows: list[int], cols: list[int]) -> list[int]:
    """Each node's component label (its smallest member), by union-find."""
    parent = list(range(n))
    for a, b in zip(rows, cols, strict=True):
        ra, rb = find_root(parent, a), find_root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find_root(parent, i) for i in range(n)]


def _scipy_labels(n: int, rows: list[int], cols: list[int]) -> list[int]:
    # imported here: scipy.sparse costs every command ~0.4 s to import, and most
    # (look-ups, ingest, serve) never cluster a large graph
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components as _scipy_components

    matrix = coo_array(
        (
            np.ones(len(rows), dtype=np.int8),
            (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)),
        ),
        shape=(n, n),
    )
    _, labels = _scipy_components(matrix, directed=False)
    return [int(label) for label in labels.tolist()]
