"""Training the link model: self-supervised queries that simulate the decisions.

Labels without hand labelling: every device of an identified profile (its cookies
and device IDs sharing a user agent), and every single cookie, is held out as if it
were anonymous and becomes a *query* against the same kind of candidates as at
prediction (:mod:`ml.linking`), its own profile or its own browser's cookies being
the right answer. Each query is decided twice: with its owner among the
candidates, and with the owner taken away — the case that breaks precision on
real data, where the device belongs to somebody with no identified profile (a
housemate who never logs in) and only wrong candidates are left. Both cases count
equally (a conservative prior). Thresholds are chosen on those decisions, scored
out of fold (customers split in ``folds``): the 95% lower bound of their precision
must reach the target, or the family links nothing; when no family can, training
fails with :class:`TargetUnreachable`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from graph.errors import IdgraphError
from graph.ingest.events import Identifier
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES
from ml.browsers import (
    browser_chains,
    chain_features,
    chain_links,
    lookalike_estimate,
)
from ml.evidence import (
    FEATURES,
    Evidence,
    IpStats,
    candidate_pairs,
    cluster_evidence,
    evidence_without_events,
    features,
    identifier_histories,
    ip_degrees,
    ua_surprisal,
    with_context,
)
from ml.linking import MODEL_FAMILIES, LinkingSettings, cluster_evidences, decide
from ml.model import LinkModel, choose_threshold, precision_curve
from ml.model_card import browser_why

__all__ = [
    "Examples",
    "Query",
    "TargetUnreachable",
    "model_pair_metrics",
    "simulated_decisions",
    "train_model",
    "training_examples",
]


class TargetUnreachable(IdgraphError):
    """No threshold reaches the target precision: the model would link nothing."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class Query:
    """A held-out unit and its candidates.

    ``profile`` queries: row 0 is the owner (when ``has_owner``); ``absent`` holds
    the other candidates' rows again, their context recomputed as if the owner
    were not there. ``device`` queries are decided pair by pair: ``labels`` says
    which rows are the unit's own browser.
    """

    family: str
    customer: int  #: the profile it was held out of (folds split by customer)
    rows: list[list[float]]
    has_owner: bool = True
    absent: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def row_labels(self) -> list[int]:
        if self.family == "device":
            return self.labels + [0] * len(self.absent)
        owner = [int(self.has_owner and n == 0) for n in range(len(self.rows))]
        return owner + [0] * len(self.absent)

    def all_rows(self) -> list[list[float]]:
        return self.rows + self.absent


@dataclass
class Examples:
    queries: list[Query]
    excluded_ips: dict[str, int] = field(default_factory=dict)

    def matrix(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(X, y, customer) of every candidate row."""
        rows = [r for q in self.queries for r in q.all_rows()]
        labels = [label for q in self.queries for label in q.row_labels()]
        groups = [q.customer for q in self.queries for _ in q.all_rows()]
        return (
            np.array(rows, dtype=float).reshape(-1, len(FEATURES)),
            np.array(labels, dtype=int),
            np.array(groups, dtype=int),
        )


def simulated_decisions(
    queries: Sequence[Query], scores: Sequence[Sequence[float]], margin: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int]:
    """Each query decided with its owner and without: (score, right?) of every
    decision made, and how many queries had an owner to find (recall's base)."""
    made: list[tuple[float, int]] = []
    owned = 0
    for query, s in zip(queries, scores, strict=True):
        present, rest = list(s[: len(query.rows)]), list(s[len(query.rows) :])
        if query.has_owner:
            owned += 1
            chosen = decide(present, margin)
            if chosen is not None:
                made.append((chosen[1], int(chosen[0] == 0)))
        else:
            rest = present
        chosen = decide(rest, margin)
        if chosen is not None:
            made.append((chosen[1], 0))
    array = np.array(made, dtype=float).reshape(-1, 2)
    return array[:, 0], array[:, 1].astype(int), owned


def _device_decisions(
    queries: Sequence[Query], scores: Sequence[Sequence[float]]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int]:
    """A device query links to its best candidate: right when that is one of its own
    browser's cookies; and again with its own browser's cookies taken away (wrong)."""
    made: list[tuple[float, int]] = []
    for query, s in zip(queries, scores, strict=True):
        present, rest = list(s[: len(query.rows)]), list(s[len(query.rows) :])
        chosen = decide(present, 0.0)  # its best candidate, as at prediction
        if chosen is not None:
            made.append((chosen[1], query.labels[chosen[0]]))
        if rest:
            made.append((max(rest), 0))
    array = np.array(made, dtype=float).reshape(-1, 2)
    return array[:, 0], array[:, 1].astype(int), sum(1 for q in queries if q.has_owner)


def training_examples(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    settings: LinkingSettings,
    raw_observations: Mapping[Identifier, Sequence[tuple[str, str | None, int]]] | None = None,
) -> Examples:
    """Queries from identified profiles (see the module docstring)."""
    evidence = cluster_evidences(clusters, histories)
    degrees = ip_degrees(evidence)
    agents = ua_surprisal(evidence)
    identified = [n for n, ev in evidence.items() if ev.has_account]
    _, excluded = candidate_pairs([], identified, evidence, degrees, cap=settings.ip_cap)
    observations = raw_observations or {}
    cap = settings.ip_cap
    chains = browser_chains(histories, max_agents=settings.chain_max_agents)
    owner_of = {m: n for n in identified for m in clusters[n]}

    def feats(a: Evidence, b: Evidence) -> list[float]:
        chain = chain_features(a.members, b.members, chains, owner_of)
        return features(a, b, degrees, cap=cap, agents=agents, chain=chain)

    by_ip = _by_ip({n: evidence[n] for n in identified}, excluded)
    queries: list[Query] = []
    pool: list[tuple[int, list[Identifier]]] = []  # (profile, its device's identifiers)
    for n, members in enumerate(clusters):
        if not any(m.type in IDENTITY_TYPES for m in members):
            continue
        devices = _devices(members, histories)
        pool.extend((n, group) for group in devices)
        singles = [[m] for group in devices if len(group) > 1 for m in group]
        for unit in devices + singles:
            alone = cluster_evidence(unit, histories, account_types=IDENTITY_TYPES)
            usable = set(alone.ips) - excluded.keys()
            targets = sorted({t for ip in usable for t in by_ip.get(ip, ())} - {n})
            # without the events the unit shared with its profile (its logins): an
            # anonymous device never shares an event with the profile it belongs to
            shared_events = {(ip, ts) for m in unit for ip, _, ts in observations.get(m, ())}
            rest = evidence_without_events([m for m in members if m not in unit], observations,
                                           shared_events, account_types=IDENTITY_TYPES)  # fmt: skip
            others = [feats(alone, evidence[t]) for t in targets]
            if usable & set(rest.ips):
                rows = with_context([feats(alone, rest), *others])
                queries.append(Query("profile", n, rows, absent=with_context(others)))
            elif others:  # its owner is no candidate: any link would be wrong
                queries.append(Query("profile", n, with_context(others), has_owner=False))
    # every cookie and device against the other cookies and devices on its IPs, as if
    # all were anonymous: its own browser's other cookies are right, all else is wrong
    cookies_of = {
        m: (n, d, cluster_evidence([m], histories, account_types=IDENTITY_TYPES))
        for d, (n, group) in enumerate(pool)
        for m in group
    }
    keys = sorted(cookies_of)
    index = {m: k for k, m in enumerate(keys)}
    cookies_by_ip = _by_ip({index[m]: cookies_of[m][2] for m in keys}, excluded)
    logins = {  # per profile: the events its identity identifiers were in
        n: {(ip, ts) for i in clusters[n] if i.type in IDENTITY_TYPES
            for ip, _, ts in observations.get(i, ())}
        for n in {n for n, _ in pool}
    }  # fmt: skip
    for m in keys:
        # held out without its logins: an anonymous cookie has none. A device of one
        # identifier (an app, a browser that kept its cookie) has no right answer:
        # every link it makes is wrong, as for anonymous ones at prediction
        n, d, _ = cookies_of[m]
        alone = evidence_without_events([m], observations, logins[n],
                                        account_types=IDENTITY_TYPES)  # fmt: skip
        usable = set(alone.ips) - excluded.keys()
        near = sorted({k for ip in usable for k in cookies_by_ip.get(ip, ())} - {index[m]})
        if not near:
            continue
        raw_rows = [feats(alone, cookies_of[keys[k]][2]) for k in near]
        labels = [int(cookies_of[keys[k]][1] == d) for k in near]
        others = [r for r, label in zip(raw_rows, labels, strict=True) if not label]
        absent = with_context(others) if any(labels) else []
        rows = with_context(raw_rows)
        queries.append(Query("device", n, rows, any(labels), absent=absent, labels=labels))
    return Examples(queries, excluded)


def _by_ip(evidence: Mapping[int, Evidence], excluded: Mapping[str, int]) -> dict[str, list[int]]:
    by_ip: dict[str, list[int]] = {}
    for n, ev in evidence.items():
        for ip in ev.ips:
            if ip not in excluded:
                by_ip.setdefault(ip, []).append(n)
    return by_ip


def _devices(
    members: Sequence[Identifier], histories: Mapping[Identifier, Mapping[str, IpStats]]
) -> list[list[Identifier]]:
    """A profile's cookies and devices grouped into physical devices: identifiers
    that share a user agent (a browser's successive cookies) form one group.
    Held out together, they look like an anonymous device does at prediction:
    nothing of its own browser left in the rest of the profile."""
    things = sorted(m for m in members if m.type in DEVICE_TYPES and m in histories)
    agents = {m: {ua for s in histories[m].values() for ua in s.uas if ua} for m in things}
    parent = {m: m for m in things}

    def find(m: Identifier) -> Identifier:
        while parent[m] != m:
            m = parent[m]
        return m

    first_with: dict[str, Identifier] = {}
    for m in things:
        for ua in sorted(agents[m]):
            if ua in first_with:
                parent[find(m)] = find(first_with[ua])
            else:
                first_with[ua] = m
    groups: dict[Identifier, list[Identifier]] = {}
    for m in things:
        groups.setdefault(find(m), []).append(m)
    return list(groups.values())


def train_model(
    clusters: Sequence[Sequence[Identifier]],
    observations: Sequence[tuple[Identifier, str, str | None, int]],
    settings: LinkingSettings,
    *,
    blocked: Iterable[Identifier] = (),
) -> tuple[LinkModel, dict[str, Any]]:
    """Decide the browser family (:mod:`ml.browsers`), fit the model and choose the
    other families' thresholds on out-of-fold decisions (they link when the browser
    family does not: :func:`ml.linking.propose_links`). ``blocked``: quarantined
    identifiers (never linked).

    Raises :class:`TargetUnreachable` (with the report) when no family can reach
    the target precision: such a model would link nothing.
    """
    started = time.perf_counter()
    raw: dict[Identifier, list[tuple[str, str | None, int]]] = {}
    for identifier, ip, ua, ts in observations:
        raw.setdefault(identifier, []).append((ip, ua, ts))
    histories = identifier_histories(observations)
    browser = browser_family(clusters, histories, settings, blocked=blocked)
    examples = training_examples(clusters, histories, settings, raw)
    X, y, groups = examples.matrix()
    if len(np.unique(y)) < 2:
        raise TargetUnreachable(
            "not enough devices of identified customers to learn from "
            "(no positive and negative examples)",
            {"queries": len(examples.queries), "pairs": len(y)},
        )
    oof, importances = _out_of_fold_scores(X, y, groups, settings)
    per_query: list[list[float]] = []
    start = 0
    for query in examples.queries:
        size = len(query.all_rows())
        per_query.append(oof[start : start + size].tolist())
        start += size
    thresholds: dict[str, float] = {"browser": 0.0 if browser["reached"] else 1.01}
    estimates: dict[str, dict[str, Any]] = {"browser": browser}
    for family in MODEL_FAMILIES:
        chosen = [(q, s) for q, s in zip(examples.queries, per_query, strict=True)
                  if q.family == family]  # fmt: skip
        if family == "device":
            scores, right, owned = _device_decisions([q for q, _ in chosen], [s for _, s in chosen])
        else:
            scores, right, owned = simulated_decisions(
                [q for q, _ in chosen], [s for _, s in chosen], settings.margin
            )
        threshold = choose_threshold(scores, right, settings.target_precision)
        thresholds[family] = threshold
        estimates[family] = _estimate(scores, right, owned, threshold, settings.target_precision)
    model = LinkModel(random_state=settings.seed).fit(X, y)
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
    if all(t > 1 for t in thresholds.values()):
        best = max((estimates[f] for f in MODEL_FAMILIES),
                   key=lambda e: e["best_reachable"]["precision_lower_bound"])  # fmt: skip
        raise TargetUnreachable(
            f"no threshold reaches the target precision {settings.target_precision}: the best "
            f"reachable is {best['best_reachable']['precision_lower_bound']:.4f} (95% lower "
            f"bound; point {best['best_reachable']['precision']:.4f}) at recall "
            f"{best['best_reachable']['recall']:.4f}; browser chains: {browser_why(browser)}",
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
) -> dict[str, Any]:
    """The browser family's estimate (:func:`ml.browsers.lookalike_estimate`) and
    decision: it links when the 95% lower bound of its precision reaches the target."""
    chains = browser_chains(histories, max_agents=settings.chain_max_agents)
    estimate = lookalike_estimate(chains)
    reached = estimate["precision_lower_bound"] >= settings.target_precision
    links = chain_links(chains, clusters, blocked=blocked, score=estimate["precision"])
    # chain links whose two ends are already one profile link nothing new
    index = {m: n for n, members in enumerate(clusters) for m in members}
    new = sum(1 for lk in links if index.get(lk.a) != index.get(lk.b))
    return {
        **estimate,
        "decisions": len(links),
        "accepted": new if reached else 0,
        "target": settings.target_precision,
        "reached": reached,
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
) -> tuple[np.ndarray[Any, Any], dict[str, dict[str, float]]]:
    """Every row scored by a model fitted without its customer; and permutation
    importances of the first fold's model on its own held-out rows."""
    customers = sorted(set(groups.tolist()))
    random.Random(settings.seed).shuffle(customers)
    fold_of = {c: n % settings.folds for n, c in enumerate(customers)}
    fold = np.array([fold_of[g] for g in groups.tolist()], dtype=int)
    scores = np.zeros(len(y), dtype=float)
    importances: dict[str, dict[str, float]] = {}
    for k in range(settings.folds):
        test = fold == k
        train = ~test
        if not test.any():
            continue
        if len(np.unique(y[train])) < 2:
            scores[test] = 0.0
            continue
        model = LinkModel(random_state=settings.seed).fit(X[train], y[train])
        scores[test] = model.predict_proba(X[test])[:, 1]
        if not importances and len(np.unique(y[test])) == 2:
            importances = _importances(model, X[test], y[test], settings.seed)
    return scores, importances


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


def model_pair_metrics(scores: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    two = len(np.unique(y)) == 2
    return {
        "pairs": len(y),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, scores)) if two else float("nan"),
        "average_precision": float(average_precision_score(y, scores)) if two else float("nan"),
    }


def _estimate(
    scores: np.ndarray[Any, Any],
    right: np.ndarray[Any, Any],
    owned: int,
    threshold: float,
    target: float,
) -> dict[str, Any]:
    """Self-supervised precision and recall of the decisions at ``threshold``."""
    accepted = scores >= threshold
    hits = int(right[accepted].sum())
    curve = precision_curve(scores, right)
    best = max(curve, key=lambda c: (c["precision_lower_bound"], c["accepted"]), default=None)
    return {
        "decisions": len(scores),
        "queries_with_owner": owned,
        "accepted": int(accepted.sum()),
        "precision": hits / int(accepted.sum()) if accepted.any() else 1.0,
        "recall": hits / owned if owned else 0.0,
        "target": target,
        "reached": threshold <= 1,
        "best_reachable": {
            "precision": best["precision"] if best else 0.0,
            "precision_lower_bound": best["precision_lower_bound"] if best else 0.0,
            "recall": (best["hits"] / owned if owned else 0.0) if best else 0.0,
            "threshold": best["threshold"] if best else 1.01,
        },
    }
