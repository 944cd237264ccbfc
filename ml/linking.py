"""Model-scored links at prediction: which anonymous clusters link where.

Each anonymous cluster (cookies and devices only, never seen with an e-mail, phone,
user_id or loyalty card) makes two decisions, each with its own threshold:

- ``profile``: the identified profile it belongs to — the best one, when it clears
  the threshold and leads the runner-up by ``margin`` (:func:`decide`);
- ``device``: the single cookie or device, anywhere (in a profile or not), that is
  the same browser under another cookie — its best candidate over the threshold.
  One browser holds one cookie at a time, so a cookie links to one other at most;
  a never-logged-in browser's cookies chain, and a chain reaching a logged-in
  cookie reaches its profile.

How the model and its thresholds are learned: :mod:`ml.training`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph.ingest.events import Identifier
from graph.resolve.integrity import IDENTITY_TYPES, Conflict, Link
from ml.browsers import HOME_WIDTHS, browser_chains, chain_links, home_chains
from ml.chain_decision import applied_links, browser_decision, look_alike_browsers
from ml.evidence import Evidence, IpStats
from ml.scoring import (
    MODEL_FAMILIES,
    CandidateRows,
    Scored,
    graph_evidence,
    scored,
    scored_candidates,
)

if TYPE_CHECKING:
    from ml.model import LinkModel

__all__ = [
    "FAMILIES",
    "MODEL_FAMILIES",
    "LinkingSettings",
    "Proposal",
    "decide",
    "decision_scores",
    "propose_links",
]

#: what an anonymous cluster is linked to: the next cookie of its browser chain
#: (ml.browsers), an identified profile, or the single cookie or device (anywhere) that
#: is the same browser
FAMILIES = ("browser", "profile", "device")


@dataclass(frozen=True)
class LinkingSettings:
    #: an IP seen with more clusters than this is not used for candidates
    ip_cap: int = 25
    #: browser chains (ml.browsers) must reach this precision (95% lower bound)
    target_precision: float = 0.99
    #: the model's families: their expected wrong links (95% upper bound) may cost the
    #: profiles' B-cubed precision at most ``budget_share`` of what lies above this
    #: (ml.error_budget) ...
    profile_precision: float = 0.995
    budget_share: float = 0.5
    #: ... and their decisions must be right at least this often (95% lower bound). The
    #: profile family's is the browser chains' bar: below it, its estimate was far above
    #: the truth on some worlds (0.99 against 0.87; docs/architecture.md, Round 6)
    profile_floor: float = 0.99
    device_floor: float = 0.9
    #: browser chains under ``target_precision`` may still link when what their wrong
    #: groups could cost fits the room under ``profile_precision``
    #: (:func:`browser_decision`), never with a 95% lower bound under this
    chain_floor: float = 0.9
    #: an anonymous cluster whose two best candidates score within this stays alone
    margin: float = 0.1
    #: customers are split in this many folds to score every query out of fold
    folds: int = 4
    seed: int = 0
    #: browser chains (ml.browsers) on IPs seen with at most this many user agents,
    #: widened from the first while the data supports it (ml.browsers.home_chains);
    #: the model's chain features use the first
    chain_widths: tuple[int, ...] = HOME_WIDTHS
    #: self-supervised queries are drawn from at most this many identified profiles (a
    #: seeded sample beyond it; their candidates, and every statistic the features
    #: use, still come from the whole graph): training's cost stops growing with it
    training_customers: int = 5000
    #: how many links a threshold makes is counted on at most this many anonymous
    #: clusters of the graph (a seeded sample; ml.error_budget.spending)
    decision_sample: int = 20000
    #: ``train`` makes the decisions' candidate rows in a forked process, beside its
    #: queries and fit (:mod:`ml.background`), from this many clusters
    background_clusters: int = 20000
    #: ``train`` reads the whole graph up to this many strong identifiers, above it a
    #: sample of about ``train_sample`` of them (:mod:`ml.sampling`), closed over what
    #: the features read; an IP seen with more than ``read_limit`` identifiers is
    #: taken for a network without being read whole
    whole_graph_limit: int = 250_000
    train_sample: int = 30_000
    read_limit: int = 400


@dataclass
class Proposal:
    links: list[Link]  #: accepted model links
    refused: list[Conflict]  #: best candidates not accepted, with the reason
    stats: dict[str, Any]
    version: str = ""


def decide(scores: Sequence[float], margin: float) -> tuple[int, float] | None:
    """The candidate a query links to, as (index, score): the best one, when it leads
    the runner-up by ``margin``; ``None`` when there is none or it is too close.
    The threshold is applied by the caller. Ties go to the lower index."""
    if not len(scores):
        return None
    order = sorted(range(len(scores)), key=lambda n: (-scores[n], n))
    best = order[0]
    if len(order) > 1 and scores[best] - scores[order[1]] < margin:
        return None
    return best, float(scores[best])


def propose_links(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    model: LinkModel,
    settings: LinkingSettings,
    *,
    blocked: Iterable[Identifier] = (),
) -> Proposal:
    """The browser family's chain links when it reached its target at training and
    the estimate on the current data still does; otherwise the model's families:
    each anonymous cluster decides against identified profiles (:func:`decide`), and
    is paired with every single cookie or device elsewhere, in a profile or not (the
    same browser under another cookie), each family over its threshold linking.

    Why not both: on chain-joined clusters the model's families linked into the
    wrong profile far more often than their estimates said (docs/quality.md), and on
    top of the chains they added under a point of recall. ``blocked``: quarantined
    identifiers (never linked)."""
    blocked = set(blocked)
    narrowest = browser_chains(histories, max_agents=settings.chain_widths[0])
    homes, estimate = home_chains(histories, settings.target_precision, settings.chain_widths,
                                  narrowest=narrowest)  # fmt: skip
    browser: dict[str, Any] = {"trained": model.thresholds_.get("browser", 1.01) <= 1}
    browser.update(estimate)
    chained = (
        chain_links(homes, clusters, blocked=blocked, score=estimate["precision"])
        if browser["trained"]
        else []
    )
    decision = browser_decision(estimate, homes, clusters, chained,
                                target=settings.target_precision, floor=settings.chain_floor,
                                profile_precision=settings.profile_precision)  # fmt: skip
    chained = applied_links(homes, clusters, chained, decision, blocked=blocked,
                            score=estimate["precision"])  # fmt: skip
    browser["applied"] = bool(browser["trained"] and decision["reached"])
    browser.update(decision)
    if browser["applied"]:
        browser["accepted"] = len(chained)
        idle = {"pairs": 0, "accepted": 0, "ambiguous": 0, "below_threshold": 0,
                "superseded": True}  # fmt: skip
        anonymous_clusters = sum(
            1 for members in clusters if not any(m.type in IDENTITY_TYPES for m in members)
        )
        return Proposal(chained, [], {
            "anonymous_clusters": anonymous_clusters, "browser": browser, "profile": idle,
            "device": dict(idle), "excluded_ips": 0, "accepted": len(chained),
        })  # fmt: skip
    browser["accepted"] = 0
    # the day's browsers may look alike where the trained ones did not (Round 10)
    look_alike = look_alike_browsers(estimate, settings.chain_floor)
    links: dict[tuple[Identifier, Identifier], Link] = {}
    refused: list[Conflict] = []
    stats: dict[str, Any] = {"browser": browser}
    # the model's chain features read the narrowest homes' chains, whatever width the
    # browser family settled on
    shared = graph_evidence(clusters, histories)
    decided_on = scored_candidates(clusters, histories, narrowest, shared, model,
                                   cap=settings.ip_cap)  # fmt: skip
    stats["anonymous_clusters"] = decided_on.anonymous
    for family, choices in decided_on.families:
        threshold = model.thresholds_[family]
        counts = {"pairs": choices.pairs, "accepted": 0, "ambiguous": 0, "below_threshold": 0}
        if look_alike and threshold <= 1:
            stats[family] = {**counts, "refused": look_alike}
            continue
        for a, options, scores in choices.ranked:
            anchor = min(clusters[a])
            if family == "device":
                low, high, score = _device_choice(clusters, decided_on, a, options, scores)
                if score >= threshold:
                    counts["accepted"] += (low, high) not in links
                    links.setdefault((low, high), Link(low, high, "model", score))
                else:
                    counts["below_threshold"] += 1
                continue
            chosen = decide(scores, settings.margin)
            best = chosen[0] if chosen else max(range(len(scores)), key=lambda n: scores[n])
            member = _closest_member(clusters[options[best]], shared.evidence[a], histories,
                                     choices.excluded)  # fmt: skip
            low, high = sorted((anchor, member))
            if chosen is None:
                counts["ambiguous"] += 1
                reason = f"ambiguous: {scores[best]:.3f} within {settings.margin} of another"
                refused.append(Conflict(low, high, "model", reason))
            elif chosen[1] < threshold:
                counts["below_threshold"] += 1
                reason = f"score {chosen[1]:.3f} below the {family} threshold {threshold:.3f}"
                refused.append(Conflict(low, high, "model", reason))
            else:
                counts["accepted"] += 1
                links.setdefault((low, high), Link(low, high, "model", chosen[1]))
        stats[family] = counts
        stats["excluded_ips"] = len(choices.excluded)
    stats["accepted"] = len(links)
    return Proposal(list(links.values()), refused, stats)


def decision_scores(
    clusters: Sequence[Sequence[Identifier]],
    rows: CandidateRows,
    model: LinkModel,
    settings: LinkingSettings,
) -> tuple[dict[str, list[float]], int, int]:
    """What each model family would decide on this graph, before any threshold: for
    every anonymous cluster with candidates, the score of the link it would make
    (``device``: its best candidate's, one score a pair of cookies however many of
    them chose each other; ``profile``: the best one's when it leads the runner-up by
    the margin, else it never links). ``rows``: :func:`ml.scoring.candidate_rows` of
    the graph (``train``: of at most ``settings.decision_sample`` anonymous clusters,
    seeded), so the decisions a threshold makes are counted on the data, not
    simulated; returned with how many clusters were scored and how many there are."""
    found: dict[str, list[float]] = {}
    decided_on = scored(rows, model)
    for family, choices in decided_on.families:
        if family == "profile":
            decided = (decide(scores, settings.margin) for _, _, scores in choices.ranked)
            found[family] = [d[1] for d in decided if d is not None]
            continue
        # two cookies of one browser may each choose the other: one link, counted once
        pairs: dict[tuple[Identifier, Identifier], float] = {}
        for a, options, scores in choices.ranked:
            low, high, score = _device_choice(clusters, decided_on, a, options, scores)
            pairs[(low, high)] = max(score, pairs.get((low, high), 0.0))
        found[family] = list(pairs.values())
    return found, decided_on.sampled, decided_on.anonymous


def _device_choice(
    clusters: Sequence[Sequence[Identifier]],
    decided_on: Scored,
    a: int,
    options: Sequence[int],
    scores: Sequence[float],
) -> tuple[Identifier, Identifier, float]:
    """The device family's link for anonymous cluster ``a``: its best candidate (one
    browser, one predecessor), as an ordered pair with its score."""
    index, score = decide(scores, 0.0) or (0, 0.0)  # never None: options exist
    low, high = sorted((min(clusters[a]), decided_on.singles[options[index]]))
    return low, high, score


def _closest_member(
    members: Sequence[Identifier],
    query: Evidence,
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    excluded: Mapping[str, int],
) -> Identifier:
    """The member sharing most usable IPs with the query (ties: smallest key)."""
    usable = set(query.ips) - excluded.keys()
    return min(members, key=lambda m: (-len(usable & set(histories.get(m, {}))), m))
