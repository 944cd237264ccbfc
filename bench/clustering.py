"""Connected components: scipy.sparse.csgraph vs networkx on the same graph.

    python bench/clustering.py --nodes 200000

A random sparse graph shaped like identity data (mostly small components,
about 0.8 edges per node), keys as (type, value) tuples as in resolution.
Both include building the graph from the key list.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import publish

from graph.resolve.clustering import connected_components


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    rng = random.Random(3)
    nodes = [("cookie_id", f"c{i}") for i in range(args.nodes)]
    edges = [(nodes[i], nodes[min(args.nodes - 1, i + rng.randint(1, 5))])
             for i in rng.sample(range(args.nodes), int(args.nodes * 0.8))]  # fmt: skip

    started = time.perf_counter()
    ours = connected_components(nodes, edges)
    scipy_s = time.perf_counter() - started

    started = time.perf_counter()
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    theirs = list(nx.connected_components(graph))
    networkx_s = time.perf_counter() - started
    assert len(ours) == len(theirs)

    publish(
        "Connected components",
        [
            f"Command: `python bench/clustering.py --nodes {args.nodes}`",
            "",
            f"{args.nodes:,} nodes, {len(edges):,} edges, {len(ours):,} components.",
            "",
            "| implementation | seconds |",
            "|---|---:|",
            f"| scipy.sparse.csgraph (graph/resolve/clustering.py) | {scipy_s:.2f} |",
            f"| networkx.connected_components | {networkx_s:.2f} |",
            "",
            f"scipy is {networkx_s / scipy_s:.1f}x faster here; resolution uses it.",
        ],
        save=not args.no_record,
    )


if __name__ == "__main__":
    main()
