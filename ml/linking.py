"""Model-scored links: training examples from the graph itself, and link proposals.

Labels without hand labelling: in every profile tied to an account by logins
(it holds a user_id or loyalty_id), each physical device (its cookies and
device IDs that share a user agent) is held out as if it were anonymous and
paired, through the same candidate generation used at
prediction, with the rest of its own profile (positive) and with the other
profiles it shares an IP with (negative). At prediction, each anonymous cluster
(only cookies and devices) is scored against the identified profiles it shares
an IP with; it joins the single best one if the score clears the threshold and
no other profile scores within ``margin`` of it (a household's members look
alike: those are left unlinked).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from graph.events import Identifier
from graph.integrity import ACCOUNT_TYPES, IDENTITY_TYPES, Conflict, Link
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
)
from ml.model import LinkModel

__all__ = ["LinkingSettings", "Proposal", "propose_links", "train_model", "training_examples"]

DEVICE_TYPES = frozenset({"cookie_id", "device_id"})


@dataclass(frozen=True)
class LinkingSettings:
    #: an IP seen with more clusters than this is not used for candidates
    ip_cap: int = 25
    target_precision: float = 0.99
    #: an anonymous cluster whose two best profiles score within this are left alone
    margin: float = 0.1
    #: at most this many negative pairs per held-out device (seeded sample)
    negatives_per_unit: int = 20
    seed: int = 0


@dataclass
class Examples:
    X: np.ndarray[Any, Any]
    y: np.ndarray[Any, Any]
    groups: np.ndarray[Any, Any]  #: the customer (profile index) of each pair
    excluded_ips: dict[str, int] = field(default_factory=dict)


@dataclass
class Proposal:
    links: list[Link]  #: accepted model links (anonymous cluster -> profile member)
    refused: list[Conflict]  #: best candidates not accepted, with the reason
    stats: dict[str, Any]
    version: str = ""


def _evidence(
    clusters: Sequence[Sequence[Identifier]], histories: Mapping[Identifier, Mapping[str, IpStats]]
) -> dict[int, Evidence]:
    return {
        n: cluster_evidence(members, histories, account_types=IDENTITY_TYPES)
        for n, members in enumerate(clusters)
    }


def training_examples(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    settings: LinkingSettings,
    raw_observations: Mapping[Identifier, Sequence[tuple[str, str | None, int]]] | None = None,
) -> Examples:
    """Labelled pairs from login-tied profiles (see the module docstring)."""
    evidence = _evidence(clusters, histories)
    degrees = ip_degrees(evidence)
    identified = [n for n, ev in evidence.items() if ev.has_account]
    _, excluded = candidate_pairs([], identified, evidence, degrees, cap=settings.ip_cap)
    by_ip: dict[str, list[int]] = {}
    for n in identified:
        for ip in evidence[n].ips:
            if ip not in excluded:
                by_ip.setdefault(ip, []).append(n)
    observations = raw_observations or {}
    rng = random.Random(settings.seed)
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[int] = []
    for n, members in enumerate(clusters):
        if not any(m.type in ACCOUNT_TYPES for m in members):
            continue
        # a held-out device (all its cookies: never logged in on this profile's
        # browsers) and each single cookie (a browser's new cookie after churn)
        devices = _devices(members, histories)
        singles = [[m] for group in devices if len(group) > 1 for m in group]
        for unit in devices + singles:
            alone = cluster_evidence(unit, histories, account_types=IDENTITY_TYPES)
            targets = sorted(
                {t for ip in alone.ips if ip not in excluded for t in by_ip.get(ip, ())}
            )
            if n not in targets:
                continue  # the rest of its profile shares no usable IP: not a candidate
            # without the events the device shared with them (its logins): an
            # anonymous device never shares an event with the profile it belongs to
            shared_events = {(ip, ts) for m in unit for ip, _, ts in observations.get(m, ())}
            rest = evidence_without_events([m for m in members if m not in unit], observations,
                                           shared_events, account_types=IDENTITY_TYPES)  # fmt: skip
            if not (set(rest.ips) & set(alone.ips)) - excluded.keys():
                continue
            others = [t for t in targets if t != n]
            if len(others) > settings.negatives_per_unit:
                others = rng.sample(others, settings.negatives_per_unit)
            rows.append(features(alone, rest, degrees, cap=settings.ip_cap))
            labels.append(1)
            groups.append(n)
            for t in others:
                rows.append(features(alone, evidence[t], degrees, cap=settings.ip_cap))
                labels.append(0)
                groups.append(n)
    # device-level pairs, as between two anonymous clusters: a cookie against the
    # other cookies of its own browser (a never-logged-in browser's churned
    # cookies), and against other customers' devices on the same IPs
    pool: list[tuple[int, list[Identifier], Evidence]] = []
    for n, members in enumerate(clusters):
        if any(m.type in ACCOUNT_TYPES for m in members):
            for group in _devices(members, histories):
                evidence_of_group = cluster_evidence(group, histories, account_types=IDENTITY_TYPES)
                pool.append((n, group, evidence_of_group))
    device_by_ip: dict[str, list[int]] = {}
    for d, (_, _, ev) in enumerate(pool):
        for ip in ev.ips:
            if ip not in excluded:
                device_by_ip.setdefault(ip, []).append(d)
    for n, group, _ in pool:
        if len(group) < 2:
            continue
        for cookie in group:
            alone = cluster_evidence([cookie], histories, account_types=IDENTITY_TYPES)
            usable = set(alone.ips) - excluded.keys()
            rest = cluster_evidence([m for m in group if m != cookie], histories,
                                    account_types=IDENTITY_TYPES)  # fmt: skip
            if not usable & set(rest.ips):
                continue
            rows.append(features(alone, rest, degrees, cap=settings.ip_cap))
            labels.append(1)
            groups.append(n)
            others = sorted(
                {o for ip in usable for o in device_by_ip.get(ip, ()) if pool[o][0] != n}
            )
            if len(others) > settings.negatives_per_unit:
                others = rng.sample(others, settings.negatives_per_unit)
            for o in others:
                rows.append(features(alone, pool[o][2], degrees, cap=settings.ip_cap))
                labels.append(0)
                groups.append(n)
    return Examples(
        np.array(rows, dtype=float).reshape(-1, len(FEATURES)),
        np.array(labels, dtype=int),
        np.array(groups, dtype=int),
        excluded,
    )


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
) -> tuple[LinkModel, dict[str, Any]]:
    """Fit on 60% of customers, choose the threshold on 20%, report on the last 20%."""
    started = time.perf_counter()
    raw: dict[Identifier, list[tuple[str, str | None, int]]] = {}
    for identifier, ip, ua, ts in observations:
        raw.setdefault(identifier, []).append((ip, ua, ts))
    examples = training_examples(clusters, identifier_histories(observations), settings, raw)
    customers = sorted(set(examples.groups.tolist()))
    random.Random(settings.seed).shuffle(customers)
    cut1, cut2 = int(len(customers) * 0.6), int(len(customers) * 0.8)
    part = {c: 0 for c in customers[:cut1]} | {c: 1 for c in customers[cut1:cut2]}
    part |= {c: 2 for c in customers[cut2:]}
    which = np.array([part[g] for g in examples.groups.tolist()], dtype=int)
    fit, pick, test = (which == 0), (which == 1), (which == 2)
    model = LinkModel(target_precision=settings.target_precision, random_state=settings.seed)
    model.fit(examples.X[fit], examples.y[fit], examples.X[pick], examples.y[pick])
    metadata = {
        "version": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "features": list(FEATURES),
        "settings": asdict(settings),
        "threshold": model.threshold_,
        "pairs": {
            "train": int(fit.sum()),
            "threshold": int(pick.sum()),
            "test": int(test.sum()),
            "positives": int(examples.y.sum()),
        },
        "customers": {"train": cut1, "threshold": cut2 - cut1, "test": len(customers) - cut2},
        "held_out": model.evaluate(examples.X[test], examples.y[test]),
        "excluded_ips": len(examples.excluded_ips),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return model, metadata


def propose_links(
    clusters: Sequence[Sequence[Identifier]],
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    model: LinkModel,
    settings: LinkingSettings,
) -> Proposal:
    """Score anonymous clusters against identified profiles; accept the clear winners."""
    evidence = _evidence(clusters, histories)
    degrees = ip_degrees(evidence)
    anonymous = [n for n, ev in evidence.items() if not ev.has_account and ev.ips]
    identified = [n for n, ev in evidence.items() if ev.has_account]
    pairs, excluded = candidate_pairs(anonymous, identified, evidence, degrees, cap=settings.ip_cap)
    per_query: dict[int, list[int]] = {}
    for a, b in pairs:
        per_query.setdefault(a, []).append(b)
    rows = [
        features(
            evidence[a],
            evidence[b],
            degrees,
            cap=settings.ip_cap,
        )
        for a, b in pairs
    ]
    scores: list[float] = (
        model.predict_proba(np.array(rows).reshape(-1, len(FEATURES)))[:, 1].tolist()
        if rows
        else []
    )
    ranked: dict[int, list[tuple[float, int]]] = {}
    for (a, b), score in zip(pairs, scores, strict=True):
        ranked.setdefault(a, []).append((float(score), b))
    links: list[Link] = []
    refused: list[Conflict] = []
    ambiguous = below = 0
    # anonymous clusters with each other: every pair that clears the threshold
    between, _ = candidate_pairs(anonymous, anonymous, evidence, degrees, cap=settings.ip_cap)
    between = [(a, b) for a, b in between if a < b]
    if between:
        scored = model.predict_proba(
            np.array(
                [
                    features(evidence[a], evidence[b], degrees, cap=settings.ip_cap)
                    for a, b in between
                ]
            ).reshape(-1, len(FEATURES))
        )[:, 1].tolist()
        for (a, b), score in zip(between, scored, strict=True):
            if score >= model.threshold_:
                links.append(Link(min(clusters[a]), min(clusters[b]), "model", float(score)))
    for a, options in ranked.items():
        options.sort(key=lambda sb: (-sb[0], sb[1]))
        best, target = options[0]
        anchor = min(clusters[a])
        member = _closest_member(clusters[target], evidence[a], histories, excluded)
        low, high = sorted((anchor, member))
        if best < model.threshold_:
            below += 1
            reason = f"score {best:.3f} below threshold {model.threshold_:.3f}"
            refused.append(Conflict(low, high, "model", reason))
        elif len(options) > 1 and best - options[1][0] < settings.margin:
            ambiguous += 1
            reason = f"ambiguous: scores {best:.3f} and {options[1][0]:.3f}"
            refused.append(Conflict(low, high, "model", reason))
        else:
            links.append(Link(anchor, member, "model", best))
    stats = {
        "anonymous_clusters": len(anonymous),
        "candidate_pairs": len(pairs),
        "anonymous_pairs": len(between),
        "accepted": len(links),
        "ambiguous": ambiguous,
        "below_threshold": below,
        "excluded_ips": len(excluded),
    }
    return Proposal(links, refused, stats)


def _closest_member(
    members: Sequence[Identifier],
    query: Evidence,
    histories: Mapping[Identifier, Mapping[str, IpStats]],
    excluded: Mapping[str, int],
) -> Identifier:
    """The profile member sharing most usable IPs with the query (ties: smallest key)."""
    usable = set(query.ips) - excluded.keys()
    return min(members, key=lambda m: (-len(usable & set(histories.get(m, {}))), m))
