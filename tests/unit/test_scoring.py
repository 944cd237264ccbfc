"""The model's scores for every anonymous cluster's candidates: made and scored a
chunk at a time at resolve (ml.scoring.scored_candidates), the same as made whole
(candidate_rows, which train's sample uses) and scored after; the device family keeps
each query's best candidate alone, the one it links to."""

from __future__ import annotations

import random

import numpy as np

from graph.ingest.events import DAY_MS
from graph.ingest.events import Identifier as I
from ml.browsers import browser_chains
from ml.evidence import IpStats, identifier_histories
from ml.linking import decide
from ml.model import LinkModel
from ml.scoring import (
    CandidateRows,
    GraphEvidence,
    candidate_rows,
    graph_evidence,
    scored,
    scored_candidates,
)

T0 = 1_780_000_000_000
AGENTS = [f"Mozilla/5.0 (Build {n}) Firefox/{120 + n}" for n in range(6)]


def _world(homes: int) -> tuple[list[list[I]], dict[I, dict[str, IpStats]]]:
    """Homes behind one IP each: a customer who logs in on a phone and a laptop, and
    anonymous cookies and app devices of theirs and of housemates, some also seen at
    a shared office address."""
    rng = random.Random(3)
    rows: list[tuple[I, str, str | None, int]] = []
    clusters: list[list[I]] = []
    for h in range(homes):
        ip, office = f"73.0.{h // 200}.{h % 200}", f"66.0.0.{h % 5}"
        customer = [I("user_id", f"u{h}"), I("cookie_id", f"login{h}"), I("device_id", f"d{h}")]
        clusters.append(customer)
        for member in customer[1:]:
            agent = rng.choice(AGENTS)
            for _ in range(rng.randint(2, 6)):
                rows.append((member, ip, agent, T0 + rng.randint(0, 60) * DAY_MS))
        for k in range(rng.randint(1, 4)):
            anonymous = I("cookie_id" if k % 2 else "device_id", f"anon{h}-{k}")
            clusters.append([anonymous])
            agent = rng.choice(AGENTS)
            for _ in range(rng.randint(1, 5)):
                where = office if rng.random() < 0.2 else ip
                rows.append((anonymous, where, agent, T0 + rng.randint(0, 60) * DAY_MS))
    return clusters, identifier_histories(rows)


def _scored_world() -> tuple[
    list[list[I]], dict[I, dict[str, IpStats]], object, GraphEvidence, CandidateRows, LinkModel
]:
    clusters, histories = _world(60)
    chains = browser_chains(histories, max_agents=8)
    shared = graph_evidence(clusters, histories)
    rows = candidate_rows(clusters, histories, chains, shared, cap=25)
    # a model whose scores vary with the rows: taught the upper half of a random mix
    X = np.vstack([made.rows for _, made in rows.families])
    mix = X @ np.random.default_rng(0).normal(size=X.shape[1])
    model = LinkModel(max_iter=5).fit(X, (mix > np.median(mix)).astype(int))
    assert len(set(model.predict_proba(X)[:, 1].tolist())) > 5
    return clusters, histories, chains, shared, rows, model


def test_scores_made_a_chunk_at_a_time_equal_the_scores_of_all_rows() -> None:
    clusters, histories, chains, shared, rows, model = _scored_world()
    whole = scored(rows, model)
    assert all(choices.ranked for _, choices in whole.families)
    for chunk in (53, 10_000):  # a few queries' rows, straddling them; all at once
        chunked = scored_candidates(clusters, histories, chains, shared, model, cap=25,
                                    chunk=chunk)  # fmt: skip
        assert chunked == whole, chunk


def test_the_device_family_keeps_each_querys_best_candidate() -> None:
    *_, rows, model = _scored_world()
    made = dict(rows.families)["device"]
    every = model.predict_proba(made.rows)[:, 1].tolist()
    kept = dict(scored(rows, model).families)["device"].ranked
    assert len(kept) == len(made.order) and len(made.rows) > 2 * len(kept)
    start = 0
    for (a, options), (query, best, score) in zip(made.order, kept, strict=True):
        scores = every[start : start + len(options)]
        start += len(options)
        index, top = decide(scores, 0.0) or (0, 0.0)
        assert (query, best, list(score)) == (a, [options[index]], [top])
