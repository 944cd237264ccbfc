"""Self-supervised queries for the link model: the decisions it will face, simulated.

Every device of an identified profile (its cookies and device IDs sharing a user
agent), and every single cookie, is held out as if it were anonymous and becomes a
*query* against the same kind of candidates as at prediction (:mod:`ml.linking`),
its own profile or its own browser's cookies being the right answer. Each query is
decided twice: with its owner among the candidates, and with the owner taken away
(a housemate who never logs in). Fitting and thresholds: :mod:`ml.training`.

A cookie query also faces the anonymous cookies on its IPs, as it will at prediction:
a housemate's browser that never logs in, with the same user agent, is the error the
device family makes most (docs/architecture.md, round 5). Such a candidate is surely
wrong when its user agent differs or it was used while one of the query's browser's
known cookies was (a browser holds one cookie at a time); otherwise it may be a cookie
of the browser that never saw a login, and a decision for it is not judged. The model
is fitted without these candidates: it is shared with the profile family, whose
scores must not move with how many anonymous browsers a world has.

Beyond ``LinkingSettings.training_customers`` identified profiles, queries come from
a seeded sample of them; their candidates are still every profile and cookie of the
graph, as at prediction, so the sample changes how many decisions are simulated, not
what each one faces.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.ingest.events import Identifier
from graph.resolve.clustering import find_root
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES
from ml.browsers import (
    BrowserChains,
    browser_chains,
    chain_features,
)
from ml.candidates import candidate_groups
from ml.evidence import (
    FEATURES,
    Evidence,
    IpStats,
    Side,
    cluster_evidence,
    evidence_without_events,
    lifetime,
    pair_features,
    side,
    user_agents,
    with_context,
)
from ml.linking import LinkingSettings, decide
from ml.scoring import GraphEvidence, graph_evidence

__all__ = [
    "UNKNOWN",
    "Examples",
    "Query",
    "device_decisions",
    "query_customers",
    "simulated_decisions",
    "training_examples",
]


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
    #: the rows and labels the model is fitted on, when not these: a device query is
    #: decided against anonymous cookies too, as at prediction, but fitted without
    #: them (their label may be unknown)
    fitted: tuple[list[list[float]], list[int]] | None = None

    def fit_rows(self) -> tuple[list[list[float]], list[int]]:
        if self.fitted is not None:
            return self.fitted
        return self.all_rows(), self.row_labels()

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
        """(X, y, customer) of every row the model is fitted on."""
        fitted = [q.fit_rows() for q in self.queries]
        rows = [r for rs, _ in fitted for r in rs]
        labels = [label for _, ls in fitted for label in ls]
        groups = [q.customer for q, (rs, _) in zip(self.queries, fitted, strict=True) for _ in rs]
        return (
            np.array(rows, dtype=float).reshape(-1, len(FEATURES)),
            np.array(labels, dtype=int),
            np.array(groups, dtype=int),
        )

    def decision_matrix(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(X, customer) of every row decided on (:meth:`Query.all_rows`, in order)."""
        rows = [r for q in self.queries for r in q.all_rows()]
        groups = [q.customer for q in self.queries for _ in q.all_rows()]
        return np.array(rows, dtype=float).reshape(-1, len(FEATURES)), np.array(groups, dtype=int)


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


def device_decisions(
    queries: Sequence[Query], scores: Sequence[Sequence[float]]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int]:
    """A device query links to its best candidate: right when that is one of its own
    browser's cookies, :data:`UNKNOWN` when it is an anonymous cookie that may be;
    and again with its own browser's cookies taken away (wrong)."""
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
    *,
    asked: set[int] | None = None,
    shared: GraphEvidence | None = None,
    chains: BrowserChains | None = None,
) -> Examples:
    """Queries from identified profiles (see the module docstring); ``asked``: the
    profiles queries come from, when the caller drew them already
    (:func:`query_customers`); ``shared`` (:func:`ml.scoring.graph_evidence`) and
    ``chains`` (the browser chains at the narrowest home width): when the caller has
    them."""
    evidence, degrees, agents, singles = shared or graph_evidence(clusters, histories)
    identified = [n for n, ev in evidence.items() if ev.has_account]
    excluded, _ = candidate_groups([], identified, evidence, degrees, cap=settings.ip_cap)
    observations = raw_observations or {}
    cap = settings.ip_cap
    chains = chains or browser_chains(histories, max_agents=settings.chain_widths[0])
    owner_of = {m: n for n in identified for m in clusters[n]}

    def feats(a: Side, b: Evidence) -> list[float]:
        chain = chain_features(a.evidence.members, b.members, chains, owner_of)
        return pair_features(a, side(b, degrees, cap), degrees, agents=agents, chain=chain)

    by_ip = _by_ip({n: evidence[n].ips for n in identified}, excluded)
    if asked is None:
        asked = query_customers(clusters, settings)
    queries: list[Query] = []
    pool: list[tuple[int, list[Identifier]]] = []  # (profile, its device's identifiers)
    for n, members in enumerate(clusters):
        if not any(m.type in IDENTITY_TYPES for m in members):
            continue
        devices = _devices(members, histories)
        pool.extend((n, group) for group in devices)  # candidates: every customer's
        if n not in asked:
            continue
        each_alone = [[m] for group in devices if len(group) > 1 for m in group]
        for unit in devices + each_alone:
            alone = cluster_evidence(unit, histories, account_types=IDENTITY_TYPES)
            usable = set(alone.ips) - excluded.keys()
            targets = sorted({t for ip in usable for t in by_ip.get(ip, ())} - {n})
            # without the events the unit shared with its profile (its logins): an
            # anonymous device never shares an event with the profile it belongs to
            shared_events = {(ip, ts) for m in unit for ip, _, ts in observations.get(m, ())}
            rest = evidence_without_events([m for m in members if m not in unit], observations,
                                           shared_events, account_types=IDENTITY_TYPES)  # fmt: skip
            query = side(alone, degrees, cap)
            others = [feats(query, evidence[t]) for t in targets]
            if usable & set(rest.ips):
                rows = with_context([feats(query, rest), *others])
                queries.append(Query("profile", n, rows, absent=with_context(others)))
            elif others:  # its owner is no candidate: any link would be wrong
                queries.append(Query("profile", n, with_context(others), has_owner=False))
    # every cookie and device against the other cookies and devices on its IPs, as if
    # all were anonymous: its own browser's other cookies are right, all else is wrong.
    # Anonymous ones compete too, as at prediction (look-alike browsers of people who
    # never log in): wrong when they cannot be its browser, unknown otherwise
    # (profile, device) of each; their evidence is made for the pairs found
    cookies_of = {m: (n, d) for d, (n, group) in enumerate(pool) for m in group}
    anonymous = sorted(m for members in clusters
                       if not any(i.type in IDENTITY_TYPES for i in members)
                       for m in members if m.type in DEVICE_TYPES and m in histories)  # fmt: skip
    for k, m in enumerate(anonymous):  # a device of its own, never a customer's
        cookies_of[m] = (-1, len(pool) + k)
    browsers = [_browser(group, histories) for _, group in pool]  # by device
    browsers += [_browser([m], histories) for m in anonymous]  # each anonymous cookie
    keys = sorted(cookies_of)
    cookies_by_ip = _by_ip({k: singles.ips(m) for k, m in enumerate(keys)}, excluded)
    logins = {  # per profile asked: the events its identity identifiers were in
        n: {(ip, ts) for i in clusters[n] if i.type in IDENTITY_TYPES
            for ip, _, ts in observations.get(i, ())}
        for n in asked
    }  # fmt: skip
    for position, m in enumerate(keys):
        # held out without its logins: an anonymous cookie has none. A device of one
        # identifier (an app, a browser that kept its cookie) has no right answer:
        # every link it makes is wrong, as for anonymous ones at prediction
        n, d = cookies_of[m]
        if n < 0 or n not in asked:
            continue
        alone = evidence_without_events([m], observations, logins[n],
                                        account_types=IDENTITY_TYPES)  # fmt: skip
        usable = set(alone.ips) - excluded.keys()
        near = sorted({k for ip in usable for k in cookies_by_ip.get(ip, ())} - {position})
        if not near:
            continue
        query = side(alone, degrees, cap)
        raw_rows = [feats(query, singles[keys[k]]) for k in near]
        labels = [_label(cookies_of[keys[k]], d, browsers) for k in near]
        rows, absent = _device_rows(raw_rows, labels)
        # fitted on the customers' devices alone: the model is shared with the profile
        # family, whose rows must not move with how many anonymous browsers there are
        known = [k for k, n_k in enumerate(near) if cookies_of[keys[n_k]][0] >= 0]
        fit_rows, fit_absent = _device_rows([raw_rows[k] for k in known],
                                            [labels[k] for k in known])  # fmt: skip
        fitted = (fit_rows + fit_absent, [labels[k] for k in known] + [0] * len(fit_absent))
        queries.append(Query("device", n, rows, any(label == 1 for label in labels),
                             absent=absent, labels=labels, fitted=fitted))  # fmt: skip
    return Examples(queries, excluded)


def _device_rows(
    raw_rows: list[list[float]], labels: Sequence[int]
) -> tuple[list[list[float]], list[list[float]]]:
    """A device query's rows with their context, and again without its own
    browser's cookies (only those surely not its browser), when it has any."""
    others = [r for r, label in zip(raw_rows, labels, strict=True) if label == 0]
    absent = with_context(others) if any(label == 1 for label in labels) else []
    return with_context(raw_rows), absent


#: a device query's candidate that may or may not be its own browser (an anonymous
#: cookie of its user agent, used while none of its browser's known cookies was)
UNKNOWN = -1


@dataclass(frozen=True)
class _Browser:
    agents: frozenset[str]
    spans: tuple[tuple[int, int], ...]  #: (first, last) ms of each of its cookies


def _browser(
    group: Sequence[Identifier], histories: Mapping[Identifier, Mapping[str, IpStats]]
) -> _Browser:
    agents = frozenset(ua for m in group for ua in user_agents(histories[m]))
    return _Browser(agents, tuple(lifetime(histories[m]) for m in group))


def _label(candidate: tuple[int, int], query_device: int, browsers: Sequence[_Browser]) -> int:
    """1: a cookie of the query's own browser; 0: surely not (another customer's
    device; or an anonymous one with another user agent, or used while one of the
    browser's known cookies was: a browser holds one cookie at a time); otherwise
    :data:`UNKNOWN` (it may be a cookie of the browser that never saw a login).
    ``candidate``: (profile, device) as in ``cookies_of``; ``browsers`` by device."""
    profile, device = candidate
    if profile >= 0:
        return int(device == query_device)
    own, other = browsers[query_device], browsers[device]
    if not other.agents & own.agents:
        return 0
    (first, last) = other.spans[0]
    if any(first <= end and start <= last for start, end in own.spans):
        return 0
    return UNKNOWN


def query_customers(
    clusters: Sequence[Sequence[Identifier]],
    settings: LinkingSettings,
    among: Collection[int] | None = None,
) -> set[int]:
    """The identified profiles (by position) queries are drawn from: all of them (of
    ``among``: the core of a sample of the graph, :mod:`ml.sampling`), or a seeded
    sample of ``settings.training_customers``. Only their members' events are needed
    one by one (``raw_observations`` of :func:`training_examples`)."""
    identified = [n for n, members in enumerate(clusters)
                  if (among is None or n in among)
                  and any(m.type in IDENTITY_TYPES for m in members)]  # fmt: skip
    if len(identified) <= settings.training_customers:
        return set(identified)
    return set(random.Random(settings.seed).sample(identified, settings.training_customers))


def _by_ip(
    ips_of: Mapping[int, Iterable[str]], excluded: Mapping[str, int]
) -> dict[str, list[int]]:
    """The keys of ``ips_of`` seen at each IP but the ``excluded`` ones."""
    by_ip: dict[str, list[int]] = {}
    for n, ips in ips_of.items():
        for ip in ips:
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
    agents = {m: user_agents(histories[m]) for m in things}
    parent = {m: m for m in things}
    first_with: dict[str, Identifier] = {}
    for m in things:
        for ua in sorted(agents[m]):
            if ua in first_with:
                parent[find_root(parent, m)] = find_root(parent, first_with[ua])
            else:
                first_with[ua] = m
    groups: dict[Identifier, list[Identifier]] = {}
    for m in things:
        groups.setdefault(find_root(parent, m), []).append(m)
    return list(groups.values())
