"""RFM: recency, frequency and monetary scores of purchasers, and their named groups.

Scores are quintiles 1-5 over the profiles with at least one purchase up to the
reference date (``as_of``): 5 is the most recent, most frequent, highest spending
fifth. Equal values share the lower score (customers with a single purchase
all get the same frequency score), so a score is never decided by input order.
The group comes from recency and the rounded mean of frequency and monetary
(the usual R x FM grid, :data:`GROUP_GRID`). Pure functions; the store supplies
the per-profile purchases and keeps the results (:func:`compute_rfm`).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from graph.ingest.events import DAY_MS
from graph.progress import Progress, no_progress
from graph.store.records import Purchaser

if TYPE_CHECKING:
    from graph.store import GraphStore

__all__ = [
    "GROUPS",
    "GROUP_GRID",
    "Purchaser",
    "RfmScore",
    "compute_rfm",
    "quintiles",
    "rfm_group",
    "score_purchasers",
]

logger = logging.getLogger(__name__)


#: group of each (recency score, frequency-monetary score); rows R=1..5, columns FM=1..5
GROUP_GRID: tuple[tuple[str, ...], ...] = (
    ("Lost", "Lost", "At risk", "At risk", "Cannot lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Cannot lose them"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    ("Promising", "Potential loyalists", "Potential loyalists", "Loyal", "Loyal"),
    ("New", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
)
#: every group name, best first
GROUPS = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "Cannot lose them",
    "At risk",
    "Hibernating",
    "Lost",
)


@dataclass(frozen=True)
class RfmScore:
    profile_id: str
    recency_days: int
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    group: str

    @property
    def score(self) -> str:
        """The three digits, e.g. ``"545"``."""
        return f"{self.r}{self.f}{self.m}"


def quintiles(values: Sequence[float]) -> list[int]:
    """Score 1-5 by rank: ``ceil(5 * rank / n)``, the lowest fifth 1, the highest
    fifth 5; ties share the lowest rank of their group (and so the lower score).
    ``O(n log n)``."""
    if not len(values):
        return []
    from scipy.stats import rankdata  # ~1 s to import: only where RFM is computed

    ranks = rankdata(np.asarray(values, dtype=float), method="min")  # 1-based
    n = len(values)
    return [math.ceil(5 * int(rank) / n) for rank in ranks]


def rfm_group(r: int, f: int, m: int) -> str:
    """The named group of scores ``r``, ``f``, ``m`` (each 1-5)."""
    fm = math.floor((f + m) / 2 + 0.5)
    return GROUP_GRID[r - 1][fm - 1]


def score_purchasers(purchasers: Sequence[Purchaser], as_of: int) -> list[RfmScore]:
    """RFM of every purchaser as of ``as_of`` (pure; ``purchasers`` bought by then).

    Recency is whole days from the last purchase to ``as_of`` (fewer is better).
    """
    days = [max(0, (as_of - p.last_purchase) // DAY_MS) for p in purchasers]
    r = quintiles([-d for d in days])
    f = quintiles([p.frequency for p in purchasers])
    m = quintiles([p.monetary for p in purchasers])
    return [
        RfmScore(
            p.profile_id, d, p.frequency, round(p.monetary, 2), ri, fi, mi, rfm_group(ri, fi, mi)
        )
        for p, d, ri, fi, mi in zip(purchasers, days, r, f, m, strict=True)
    ]


def compute_rfm(
    store: GraphStore,
    *,
    as_of: int,
    purchase_types: Sequence[str],
    now: int,
    page_size: int = 5000,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Score every active profile's purchases up to ``as_of`` and keep the scores on
    the profiles; profiles without purchases lose any earlier scores. Returns a
    summary (also stored in the graph, see :meth:`GraphStore.rfm_summary`)."""
    progress("reading purchases", 0, None)
    purchasers = store.purchasers(as_of=as_of, purchase_types=purchase_types,
                                  page_size=page_size)  # fmt: skip
    progress("scoring", 0, len(purchasers))
    scores = score_purchasers(purchasers, as_of)
    run = uuid.uuid4().hex
    progress("writing scores", 0, len(scores))
    store.write_rfm(
        [
            {
                "profile_id": s.profile_id,
                "r": s.r,
                "f": s.f,
                "m": s.m,
                "score": s.score,
                "group": s.group,
                "recency_days": s.recency_days,
                "frequency": s.frequency,
                "monetary": s.monetary,
            }
            for s in scores
        ],
        run=run,
        as_of=as_of,
        now=now,
    )
    cleared = store.clear_rfm(run=run)
    groups = Counter(s.group for s in scores)
    summary = {
        "as_of": as_of,
        "computed_at": now,
        "purchasers": len(scores),
        "cleared": cleared,
        "groups": {g: groups.get(g, 0) for g in GROUPS},
        "purchase_types": list(purchase_types),
    }
    store.set_rfm_summary(summary)
    logger.info("rfm: %d purchasers scored as of %d", len(scores), as_of)
    return summary
