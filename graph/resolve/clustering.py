"""Clustering as pure functions: connected components and new profile IDs.

Nodes are any hashable keys; the functions never touch a store, so the API,
CLI, jobs and tests share them.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np

__all__ = ["connected_components", "new_profile_id"]

K = TypeVar("K", bound=Hashable)


def new_profile_id() -> str:
    """An opaque, random profile ID (``prf_`` + 20 hex digits)."""
    return "prf_" + secrets.token_hex(10)


def connected_components(nodes: Sequence[K], edges: Iterable[tuple[K, K]]) -> list[list[K]]:
    """The connected components of an undirected graph, singletons included.

    ``nodes`` lists every node; edges whose ends are not in ``nodes`` are
    ignored. Components come out largest first, members in ``nodes`` order, so
    the result does not depend on the order of ``edges``.

    Cost: O(V + E) with scipy's sparse-graph routine (compared with networkx in
    bench/clustering.py; figures in docs/benchmarks.md).
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
    # imported here: scipy.sparse costs every command ~0.4 s to import, and most
    # (look-ups, ingest, serve) never cluster
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
    groups: dict[int, list[K]] = {}
    for node, label in zip(nodes, labels.tolist(), strict=True):
        groups.setdefault(label, []).append(node)
    return sorted(groups.values(), key=lambda members: (-len(members), index[members[0]]))
