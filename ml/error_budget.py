"""The profiles' precision target as an error budget for the model's decisions.

The quality idgraph promises is a property of profiles, B-cubed precision
(:mod:`ml.evaluation`): over identifiers, the mean share of their profile that is
their own person's. A wrong link that joins an anonymous cluster of ``a``
identifiers to a profile of ``b`` lowers that mean by ``2ab / (a + b) / N`` over
``N`` identifiers, less than ``2a / N``. The target ``P`` therefore leaves
``(1 - P) * N`` identifier-shares to lose, and a family's decisions at a threshold
spend (decisions expected at prediction) x (1 - the 95% lower bound of their
precision) x ``2a``. Only a share of the room is planned (``budget_share``): the
rest is kept for what the self-supervised estimate cannot see.

Each family gets the threshold with the most expected right links whose spending
fits its part of the budget, the parts split to maximise the right links of all
families together; a threshold whose decisions are right less often than the
family's floor (95% lower bound) is never chosen, whatever the budget. A flat bar per
decision (e.g. 0.99) over-protects profiles when decisions are few and move single
cookies, and under-protects them when decisions are many: the bar follows the data.

Pure functions over the precision curves of :func:`ml.model.precision_curve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Budget", "Choice", "allocate", "budget_for", "spending"]

#: the shares of the budget tried for the first family (the rest goes to the other)
SPLITS = tuple(k / 20 for k in range(21))


@dataclass(frozen=True)
class Budget:
    items: int  #: identifiers in clusters (what B-cubed precision averages over)
    target: float  #: B-cubed precision the profiles must keep
    share: float  #: the part of the room under the target that is planned
    queries: int  #: anonymous clusters that make decisions at prediction
    cluster_size: float  #: their mean size (identifiers): a wrong link moves that many

    @property
    def total(self) -> float:
        """Identifier-shares the model's wrong links may cost."""
        return (1 - self.target) * self.items * self.share

    @property
    def cost(self) -> float:
        """What one wrong link costs at most (identifier-shares)."""
        return 2 * self.cluster_size


@dataclass(frozen=True)
class Choice:
    threshold: float  #: above 1: the family links nothing
    precision: float  #: estimated precision of its decisions (point)
    precision_lower_bound: float  #: their 95% lower bound: the bar it was held to
    decisions: float  #: expected at prediction
    wrong: float  #: 95% upper bound of the wrong ones among them
    spent: float  #: identifier-shares those wrong links cost
    allowed: float  #: the family's part of the budget

    @property
    def links(self) -> bool:
        return self.threshold <= 1


def budget_for(
    clusters: Sequence[Sequence[object]],
    anonymous: Sequence[int],
    *,
    target: float,
    share: float,
) -> Budget:
    """The budget of a graph: ``clusters`` (identifiers, deterministic profiles) and
    the positions of the anonymous ones that decide at prediction."""
    sizes = [len(clusters[n]) for n in anonymous]
    return Budget(
        items=sum(len(c) for c in clusters),
        target=target,
        share=share,
        queries=len(anonymous),
        cluster_size=max(1.0, sum(sizes) / len(sizes)) if sizes else 1.0,
    )


def spending(
    curve: Sequence[Mapping[str, float]],
    simulated_queries: int,
    budget: Budget,
    *,
    decided: Sequence[float] | None = None,
    scale: float = 1.0,
) -> list[dict[str, float]]:
    """Each point of a family's precision curve with what accepting it would bring at
    prediction: decisions expected, wrong links (95% upper bound), their cost, and
    right links expected.

    Decisions expected at a threshold: with ``decided`` (the scores of the links the
    family would make on the graph itself, :func:`ml.linking.decision_scores`; of a
    sample: ``scale`` = clusters / sampled), those at or above it, counted; without,
    the simulated queries' acceptance rate applied to the graph's anonymous
    clusters, at most one decision each. Identified customers are no fair sample of
    anonymous clusters: on big-households the simulated rate expected 337 device links
    where the graph makes 473, and 553 profile decisions where it makes 160
    (docs/architecture.md, Round 7)."""
    ranked = np.sort(np.asarray(decided, dtype=float)) if decided is not None else None
    points = []
    for point in curve:
        if ranked is not None:
            above = len(ranked) - int(np.searchsorted(ranked, point["threshold"], side="left"))
            decisions = min(float(budget.queries), above * scale)
        else:
            rate = min(1.0, point["accepted"] / simulated_queries) if simulated_queries else 0.0
            decisions = rate * budget.queries
        wrong = decisions * (1 - point["precision_lower_bound"])
        points.append(
            {
                **point,
                "decisions": decisions,
                "wrong": wrong,
                "spent": wrong * budget.cost,
                "right": decisions * point["precision"],
            }
        )
    return points


def allocate(
    families: Mapping[str, Sequence[Mapping[str, float]]],
    budget: Budget,
    *,
    floors: Mapping[str, float],
) -> dict[str, Choice]:
    """Each family's threshold (:func:`spending` points per family): the budget split
    between the families (at most two) so that their expected right links together are
    most; within its part, a family takes the point with most right links whose cost
    fits and whose precision's lower bound reaches its floor (``floors``)."""
    names = list(families)
    if len(names) > 2:
        raise ValueError("the budget is split between at most two families")
    splits = SPLITS if len(names) == 2 else (1.0,)
    best: tuple[float, dict[str, Choice]] | None = None
    for split in splits:
        parts = dict(zip(names, (split, 1 - split), strict=False))
        chosen = {name: _best(families[name], parts[name] * budget.total, floors[name])
                  for name in names}  # fmt: skip
        right = sum(c.decisions * c.precision for c in chosen.values() if c.links)
        if best is None or right > best[0] + 1e-9:
            best = (right, chosen)
    assert best is not None  # at least one split
    return best[1]


def _best(points: Sequence[Mapping[str, float]], allowed: float, floor: float) -> Choice:
    fitting = [p for p in points
               if p["spent"] <= allowed and p["precision_lower_bound"] >= floor]  # fmt: skip
    if not fitting:
        return Choice(1.01, 1.0, 1.0, 0.0, 0.0, 0.0, allowed)
    p = max(fitting, key=lambda p: (p["right"], p["threshold"]))
    return Choice(
        threshold=float(p["threshold"]),
        precision=float(p["precision"]),
        precision_lower_bound=float(p["precision_lower_bound"]),
        decisions=float(p["decisions"]),
        wrong=float(p["wrong"]),
        spent=float(p["spent"]),
        allowed=allowed,
    )
