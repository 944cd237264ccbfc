"""Work over the whole graph in one process, and Python's cyclic garbage collector.

Planning, training and a full resolve hold millions of small objects (identifiers,
links, per-IP evidence) for minutes and create millions more. CPython's collector
scans every tracked object at each full collection, and it runs one whenever the
objects that survived the younger generations grow by a quarter: at 300k
identifiers a deterministic plan spent 5 of its 13 s there (docs/benchmarks.md).
Almost nothing those steps build is cyclic garbage, so :func:`rare_full_collections`
makes full collections a hundred times rarer for their duration; the young
generations are still collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["rare_full_collections"]

#: collections of the middle generation between two full ones inside
#: :func:`rare_full_collections` (CPython's default: 10)
RARE_FULL_THRESHOLD = 1000


@contextmanager
def rare_full_collections(threshold: int = RARE_FULL_THRESHOLD) -> Iterator[None]:
    """Full collections rarer inside the block (at most one per ``threshold``
    collections of the middle generation); the previous thresholds are restored
    after it, and a nested block keeps the rarer setting."""
    before = gc.get_threshold()
    young, middle, full = before
    gc.set_threshold(young, middle, max(full, threshold))
    try:
        yield
    finally:
        gc.set_threshold(*before)
