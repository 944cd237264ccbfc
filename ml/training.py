"""Training the link model: fit it on the self-supervised queries (:mod:`ml.examples`),
score every query out of fold (customers split in ``folds``), and choose each
family's threshold on those decisions: their expected wrong links (95% upper bound)
must fit the error budget that the profiles' precision target leaves
(:mod:`ml.error_budget`), or the family links nothing. The browser family
(:mod:`ml.browsers`) is decided by its own estimate against ``target_precision``.
When no family can link, training fails with :class:`TargetUnreachable`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np

from graph.errors import IdgraphError
from graph.ingest.events import Identifier
from graph.progress import Progress, no_progress
from graph.resolve.integrity import IDENTITY_TYPES
from ml.background import InBackground
from ml.browsers import browser_chains, chain_links, home_chains
from ml.chain_decision import applied_links, browser_decision, look_alike_browsers
from ml.error_budget import Budget, Choice, allocate, budget_for, spending
from ml.evidence import (
    FEATURES,
    IpStats,
    identifier_histories,
)
from ml.examples import (
    UNKNOWN,
    device_decisions,
    query_customers,
    simulated_decisions,
    training_examples,
)
from ml.linking import MODEL_FAMILIES, LinkingSettings, decision_scores
from ml.model import LinkModel, model_pair_metrics, precision_curve
from ml.model_card import browser_why
from ml.sampling import GraphSample
from ml.scoring import candidate_rows, graph_evidence

__all__ = ["TargetUnreachable", "browser_family", "train_model"]


class TargetUnreachable(IdgraphError):
    """No threshold reaches the target precision: the model would link nothing."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def train_model(
    clusters: Sequence[Sequence[Identifier]],
    observations: Iterable[tuple[Identifier, str, str | None, int]],
    settings: LinkingSettings,
    *,
    blocked: Iterable[Identifier] = (),
    progress: Progress = no_progress,
    sample: GraphSample | None = None,
) -> tuple[LinkModel, dict[str, Any]]:
    """Decide the browser family (:mod:`ml.browsers`), fit the model and choose the
    other families' thresholds on out-of-fold decisions (they link when the browser
    family does not: :func:`ml.linking.propose_links`). ``blocked``: quarantined
    identifiers (never linked). ``sample``: what ``clusters`` and ``observations``
    are of the graph when they are a sample of it (:mod:`ml.sampling`): queries and
    decisions come from its core, and what they count stands for the graph's.

    Raises :class:`TargetUnreachable` (with the report) when no family can reach
    the target precision: such a model would link nothing.
    """
    started = time.perf_counter()
    # events one by one: only for the members of the profiles queries come from
    customers = query_customers(clusters, settings, among=sample.core if sample else None)
    asked = {m for n in customers for m in clusters[n]}
    raw: dict[Identifier, list[tuple[str, str | None, int]]] = {}
    # one pass: ``observations`` may be a stream (app.linking.train), never held whole
    histories = identifier_histories(observations, raw=raw, raw_of=asked)
    progress("browser chains", 0, None)
    # computed once for all the steps that read them (each took 5-10% of train at 1M);
    # in a sample, only where everyone seen was read
    whole = sample.whole_ips if sample else None
    narrowest = browser_chains(histories, max_agents=settings.chain_widths[0], ips=whole)
    if sample is None:
        homes = home_chains(histories, settings.target_precision, settings.chain_widths,
                            narrowest=narrowest)  # fmt: skip
    else:  # the seed IPs' homes: a share of every home (their groups are the estimate's)
        homes = home_chains(histories, settings.target_precision, settings.chain_widths,
                            ips=sample.seed_ips)  # fmt: skip
    browser = browser_family(clusters, histories, settings, blocked=blocked, homes=homes,
                             sample=sample)  # fmt: skip
    progress("self-supervised queries", 0, None)
    shared = graph_evidence(clusters, histories, degrees=sample.degrees if sample else None)
    # the decisions' candidates and features need neither the queries nor the model:
    # made meanwhile on the other core (ml.background), when there are enough of them
    among = sample.core if sample else None
    with InBackground(
        partial(
            candidate_rows,
            clusters,
            histories,
            narrowest,
            shared,
            cap=settings.ip_cap,
            seed=settings.seed,
            sample=settings.decision_sample,
            among=among,
        ),
        name="the decisions' candidate rows",
        fork=len(clusters) >= settings.background_clusters,
    ) as made:
        examples = training_examples(clusters, histories, settings, raw, asked=customers,
                                     shared=shared, chains=narrowest)  # fmt: skip
        X, y, groups = examples.matrix()
        if len(np.unique(y)) < 2:
            raise TargetUnreachable(
                "not enough devices of identified customers to learn from "
                "(no positive and negative examples)",
                {"queries": len(examples.queries), "pairs": len(y)},
            )
        decided, decided_groups = examples.decision_matrix()
        model, oof, decided_scores, importances = _out_of_fold_scores(
            X, y, groups, settings, progress, decided=(decided, decided_groups)
        )
        rows = made.result()
    per_query: list[list[float]] = []
    start = 0
    for query in examples.queries:
        size = len(query.all_rows())
        per_query.append(decided_scores[start : start + size].tolist())
        start += size
    thresholds: dict[str, float] = {"browser": 0.0 if browser["reached"] else 1.01}
    estimates: dict[str, dict[str, Any]] = {"browser": browser}
    budget = _budget(clusters, histories, settings, sample)
    floors = {"profile": settings.profile_floor, "device": settings.device_floor}
    Array = np.ndarray[Any, Any]
    by_family: dict[str, tuple[Array, Array, int, int, Array]] = {}
    for family in MODEL_FAMILIES:
        chosen = [(q, s) for q, s in zip(examples.queries, per_query, strict=True)
                  if q.family == family]  # fmt: skip
        if family == "device":
            scores, right, owned = device_decisions([q for q, _ in chosen], [s for _, s in chosen])
        else:
            scores, right, owned = simulated_decisions(
                [q for q, _ in chosen], [s for _, s in chosen], settings.margin
            )
        # a device decision for an anonymous cookie that may be its own browser's is
        # not judged (ml.examples.UNKNOWN); how many there were is reported
        known = right != UNKNOWN
        by_family[family] = (scores[known], right[known], owned, len(chosen), scores[~known])
    curves = {family: precision_curve(scores, right)
              for family, (scores, right, *_) in by_family.items()}  # fmt: skip
    # how many links each threshold would make here: the model's decisions on this
    # graph's own anonymous clusters (a seeded sample), counted
    progress("decisions on the graph", 0, None)
    decided_here, sampled, anonymous = decision_scores(clusters, rows, model, settings)
    del shared, narrowest, rows  # not needed past here
    if sample is not None:  # the anonymous clusters of the graph the core's stand for
        anonymous = round(budget.queries)
    scale = anonymous / sampled if sampled else 0.0
    look_alike = look_alike_browsers(browser, settings.chain_floor)
    choices = allocate(
        {family: [] if look_alike else
                 spending(curves[family], queries, budget,
                          decided=decided_here.get(family, []), scale=scale)
         for family, (_, _, _, queries, _) in by_family.items()},
        budget,
        floors=floors,
    )  # fmt: skip
    for family, (scores, right, owned, _, unjudged) in by_family.items():
        threshold = choices[family].threshold
        thresholds[family] = threshold
        estimates[family] = _estimate(scores, right, owned, threshold, settings, curves[family])
        estimates[family]["budget"] = _spent(choices[family], budget, floors[family])
        estimates[family]["budget"]["decisions_counted"] = {
            "scored_clusters": sampled, "anonymous_clusters": anonymous,
            "would_decide": len(decided_here.get(family, [])),
        }  # fmt: skip
        if family == "device":
            estimates[family]["unjudged"] = int((unjudged >= threshold).sum())
        if look_alike:
            estimates[family]["refused"] = look_alike
    model.thresholds_ = thresholds
    metadata = {
        "version": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "features": list(FEATURES),
        "settings": asdict(settings),
        "threshold": thresholds["profile"],
        "thresholds": thresholds,
        "estimated": estimates,
        "pairs": {"train": len(y), "positives": int(y.sum())},
        "queries": {
            family: sum(1 for q in examples.queries if q.family == family)
            for family in MODEL_FAMILIES
        },
        "customers": len(set(groups.tolist())),
        "held_out": model_pair_metrics(oof, y),
        "excluded_ips": len(examples.excluded_ips),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if sample is not None:
        metadata["sample"] = sample.summary()
    if all(t > 1 for t in thresholds.values()):
        # of the families that were tried (a refused one's best is no option), or, when
        # none was, what their simulated decisions reached (not trusted there)
        tried = [estimates[f] for f in MODEL_FAMILIES if not estimates[f].get("refused")]
        best = max(tried or [estimates[f] for f in MODEL_FAMILIES],
                   key=lambda e: e["best_reachable"]["precision_lower_bound"])  # fmt: skip
        raise TargetUnreachable(
            f"no threshold reaches the target precision: no family's expected wrong links "
            f"fit what profile precision {settings.profile_precision} leaves "
            f"({budget.total:.1f} identifier-shares of {budget.items}) with decisions right at "
            f"least {settings.profile_floor} (profile) or {settings.device_floor} (device) of "
            f"the time; the best reachable is "
            f"{best['best_reachable']['precision_lower_bound']:.4f} (95% lower "
            f"bound; point {best['best_reachable']['precision']:.4f}) at recall "
            f"{best['best_reachable']['recall']:.4f}; browser chains: {browser_why(browser)}"
            + (f"; the profile and device families: {look_alike}" if look_alike else ""),
            metadata,
        )
    # for the model card (ml/model_card.py), not persisted with the model
    metadata["_card"] = {"scores": oof, "labels": y, "importances": importances}
    return model, metadata


def browser_family(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    settings: LinkingSettings,
    *,
    blocked: Iterable[Identifier] = (),
    homes: tuple[Any, Mapping[str, Any]] | None = None,
    sample: GraphSample | None = None,
) -> dict[str, Any]:
    """The browser family's estimate (:func:`ml.browsers.home_chains`: the widest
    home definition the data supports; ``homes``: its result, when the caller has it)
    and decision: it links when the 95% lower bound of its precision reaches the
    target. ``sample``: ``homes`` are those of its seed IPs, a share of the graph's,
    whose wrong groups are held to that share of the graph's room."""
    chains, estimate = homes or home_chains(histories, settings.target_precision,
                                            settings.chain_widths)  # fmt: skip
    blocked = set(blocked)
    links = chain_links(chains, clusters, blocked=blocked, score=estimate["precision"])
    room = None
    if sample is not None:
        room = (1 - settings.profile_precision) * sample.identifiers * sample.share
    decision = browser_decision(estimate, chains, clusters, links,
                                target=settings.target_precision, floor=settings.chain_floor,
                                profile_precision=settings.profile_precision,
                                room=room)  # fmt: skip
    if (
        sample is not None
        and (not decision["reached"] or decision["kept"])
        and float(estimate["precision_lower_bound"]) >= settings.chain_floor
    ):
        # a share of the homes bounds the precision wider than all of them would (on
        # cookie-churn 1003, 0.9893 against 0.9908): `resolve` decides again on the
        # whole graph, as it always does (ml.linking.propose_links), and how many
        # groups the room holds there
        decision = {**decision, "reached": True, "by": "resolve", "kept": None}
    links = applied_links(chains, clusters, links, decision, blocked=blocked,
                          score=estimate["precision"])  # fmt: skip
    # chain links whose two ends are already one profile link nothing new
    index = {m: n for n, members in enumerate(clusters) for m in members}
    new = sum(1 for lk in links if index.get(lk.a) != index.get(lk.b))
    return {
        **estimate,
        **decision,
        "decisions": len(links),
        "accepted": new if decision["reached"] else 0,
        "target": settings.target_precision,
        "recall": None,
        "best_reachable": {
            "precision": estimate["precision"],
            "precision_lower_bound": estimate["precision_lower_bound"],
            "recall": 0.0,
            "threshold": 0.0,
        },
    }


def _out_of_fold_scores(
    X: np.ndarray[Any, Any],
    y: np.ndarray[Any, Any],
    groups: np.ndarray[Any, Any],
    settings: LinkingSettings,
    progress: Progress,
    *,
    decided: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]],
) -> tuple[LinkModel, np.ndarray[Any, Any], np.ndarray[Any, Any], dict[str, dict[str, float]]]:
    """The model, its folds split by customer; every row scored by the fold ensemble
    fitted without its customer; the rows of ``decided`` (X, customer: the rows
    decisions are simulated on, some never fitted) too; and permutation importances
    of the first fold's ensemble on its own held-out rows."""
    dX, dgroups = decided
    customers = sorted(set(groups.tolist()))
    random.Random(settings.seed).shuffle(customers)
    customers += sorted(set(dgroups.tolist()) - set(customers))  # decided, never fitted
    fold_of = {c: n % settings.folds for n, c in enumerate(customers)}
    fold = np.array([fold_of[g] for g in groups.tolist()], dtype=int)
    dfold = np.array([fold_of[g] for g in dgroups.tolist()], dtype=int)
    progress("fitting the model", 0, None)
    model = LinkModel(random_state=settings.seed).fit(X, y, fold)
    scores = model.oof_
    del model.oof_  # not saved with the model
    dscores = np.zeros(len(dX), dtype=float)
    importances: dict[str, dict[str, float]] = {}
    for k in range(settings.folds):
        test, dtest = fold == k, dfold == k
        if k in model.members_:
            alone = model.fold_model(k)
        elif not test.any():
            alone = model  # only customers never fitted: any ensemble is held out of them
        else:
            continue  # scored 0: its fold had nothing to learn from
        if dtest.any():
            dscores[dtest] = alone.predict_proba(dX[dtest])[:, 1]
        if not importances and len(np.unique(y[test])) == 2:
            importances = _importances(alone, X[test], y[test], settings.seed)
    return model, scores, dscores, importances


def _importances(
    model: LinkModel, X: np.ndarray[Any, Any], y: np.ndarray[Any, Any], seed: int
) -> dict[str, dict[str, float]]:
    """Drop in average precision when each feature is shuffled (at most 4,000 rows)."""
    from sklearn.inspection import permutation_importance

    rows = np.random.default_rng(seed).permutation(len(y))[:4000]
    result = permutation_importance(model, X[rows], y[rows], scoring="average_precision",
                                    n_repeats=3, random_state=seed)  # fmt: skip
    ranked = sorted(zip(FEATURES, result.importances_mean, result.importances_std, strict=True),
                    key=lambda f: -f[1])  # fmt: skip
    return {name: {"mean": round(float(m), 5), "std": round(float(s), 5)} for name, m, s in ranked}


def _budget(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    settings: LinkingSettings,
    sample: GraphSample | None = None,
) -> Budget:
    """The error budget of this graph: its anonymous clusters with weak evidence are
    the queries at prediction (:func:`ml.linking.propose_links`). ``sample``: the
    clusters are a sample of the graph; its core's anonymous clusters, weighted,
    stand for the graph's."""
    anonymous = [
        n
        for n, members in enumerate(clusters)
        if (sample is None or n in sample.weights)
        and not any(m.type in IDENTITY_TYPES for m in members)
        and any(histories.get(m) for m in members)
    ]
    if sample is None:
        return budget_for(clusters, anonymous, target=settings.profile_precision,
                          share=settings.budget_share)  # fmt: skip
    weight = sample.estimate(anonymous)
    size = sum(sample.weights[n] * len(clusters[n]) for n in anonymous)
    return Budget(
        items=sample.identifiers,
        target=settings.profile_precision,
        share=settings.budget_share,
        queries=round(weight),
        cluster_size=max(1.0, size / weight) if weight else 1.0,
    )


def _spent(choice: Choice, budget: Budget, floor: float) -> dict[str, Any]:
    """What a family's threshold spends of the budget (the card's account of it)."""
    return {
        "profile_precision": budget.target,
        "items": budget.items,
        "anonymous_clusters": budget.queries,
        "cost_of_a_wrong_link": round(budget.cost, 3),
        "total": round(budget.total, 3),
        "allowed": round(choice.allowed, 3),
        "expected_links": round(choice.decisions, 1),
        "expected_wrong_at_most": round(choice.wrong, 2),
        "spent": round(choice.spent, 3),
        "bar": round(choice.precision_lower_bound, 4),
        "floor": floor,
    }


def _estimate(
    scores: np.ndarray[Any, Any],
    right: np.ndarray[Any, Any],
    owned: int,
    threshold: float,
    settings: LinkingSettings,
    curve: Sequence[Mapping[str, float]],
) -> dict[str, Any]:
    """Self-supervised precision and recall of the decisions at ``threshold``
    (``curve``: their :func:`ml.model.precision_curve`)."""
    accepted = scores >= threshold
    hits = int(right[accepted].sum())
    best = max(curve, key=lambda c: (c["precision_lower_bound"], c["accepted"]), default=None)
    return {
        "decisions": len(scores),
        "queries_with_owner": owned,
        "accepted": int(accepted.sum()),
        "precision": hits / int(accepted.sum()) if accepted.any() else 1.0,
        "recall": hits / owned if owned else 0.0,
        "target": settings.profile_precision,
        "reached": threshold <= 1,
        "best_reachable": {
            "precision": best["precision"] if best else 0.0,
            "precision_lower_bound": best["precision_lower_bound"] if best else 0.0,
            "recall": (best["hits"] / owned if owned else 0.0) if best else 0.0,
            "threshold": best["threshold"] if best else 1.01,
        },
    }
