"""The rarity heuristic: a 40-line baseline for the link model (issue #10).

Each anonymous cluster (no e-mail, phone, user_id or loyalty card) scores every
identified profile by the (IP, user agent) pairs they share, each weighted by
the rarity of its IP (1 / log(1 + clusters seen on it)); IPs seen with more
than ``cap`` clusters are ignored. It joins the best profile when that scores
at least ``ratio`` times the runner-up. It starts from the same clusters as the
model (idgraph's deterministic, merge-protected profiles).

:func:`tuned_heuristic` is the same heuristic with its settings chosen *with the
ground truth*: the highest recall among :data:`GRID` whose B-cubed precision reaches
a target (the issue's heuristic pays for its recall with precision on some worlds;
this is the fair comparison at idgraph's precision, and an oracle's choice no
deployment could make).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from graph.ingest.events import Identifier
from graph.resolve.integrity import IDENTITY_TYPES

#: (cap, ratio) settings tried by :func:`tuned_heuristic`
GRID = tuple((cap, ratio) for cap in (30, 20, 10, 5, 3, 2) for ratio in (2.0, 5.0))


def rarity_heuristic(
    clusters: Sequence[Sequence[Identifier]],
    observations: Iterable[tuple[Identifier, str, str | None, int]],
    *,
    cap: int = 30,
    ratio: float = 2.0,
) -> dict[Identifier, str]:
    """identifier -> profile label after the heuristic's joins."""
    cluster_of = {m: n for n, members in enumerate(clusters) for m in members}
    pairs: dict[int, set[tuple[str, str | None]]] = defaultdict(set)
    for identifier, ip, ua, _ in observations:
        n = cluster_of.get(identifier)
        if n is not None:
            pairs[n].add((ip, ua))
    on_ip: dict[str, set[int]] = defaultdict(set)
    for n, seen in pairs.items():
        for ip, _ in seen:
            on_ip[ip].add(n)
    identified = {n for n, ms in enumerate(clusters) if any(m.type in IDENTITY_TYPES for m in ms)}
    by_pair: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for n in identified:
        for pair in pairs.get(n, ()):
            if len(on_ip[pair[0]]) <= cap:
                by_pair[pair].append(n)
    joins: dict[int, int] = {}
    for n, seen in pairs.items():
        if n in identified:
            continue
        scores: dict[int, float] = defaultdict(float)
        for pair in seen:
            if len(on_ip[pair[0]]) <= cap:
                for target in by_pair.get(pair, ()):
                    scores[target] += 1 / math.log(1 + len(on_ip[pair[0]]))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if ranked and ranked[0][1] >= ratio * (ranked[1][1] if len(ranked) > 1 else 0.0):
            joins[n] = ranked[0][0]
    return {m: f"c{joins.get(n, n)}" for n, members in enumerate(clusters) for m in members}


def tuned_heuristic(
    clusters: Sequence[Sequence[Identifier]],
    observations: Sequence[tuple[Identifier, str, str | None, int]],
    score: Callable[[dict[Identifier, str]], tuple[float, float]],
    target: float,
) -> tuple[dict[Identifier, str] | None, dict[str, Any]]:
    """The heuristic's profiles at the (cap, ratio) of :data:`GRID` with the highest
    recall whose precision reaches ``target`` (``score``: profiles -> (P, R), from the
    ground truth); ``None`` when no setting reaches it. The second value says which
    setting was chosen, or the best precision any reached."""
    best: tuple[float, dict[Identifier, str], dict[str, Any]] | None = None
    top_precision = 0.0
    for cap, ratio in GRID:
        predicted = rarity_heuristic(clusters, observations, cap=cap, ratio=ratio)
        precision, recall = score(predicted)
        top_precision = max(top_precision, precision)
        if precision >= target and (best is None or recall > best[0]):
            best = (recall, predicted, {"cap": cap, "ratio": ratio})
    if best is None:
        return None, {"best_precision": top_precision}
    return best[1], best[2]
