from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from graph.errors import ConfigError
from graph.ingest.events import Identifier as I
from graph.resolve.integrity import IDENTITY_TYPES
from ml.candidates import candidate_groups
from ml.evidence import (
    DAY_MS,
    FEATURES,
    cluster_evidence,
    features,
    identifier_histories,
    ip_degrees,
    with_context,
)
from ml.examples import UNKNOWN, Query, device_decisions, simulated_decisions, training_examples
from ml.linking import LinkingSettings, decide
from ml.model import LinkModel, precision_curve
from ml.model_card import family_why
from ml.model_files import load, save

T0 = 1_780_000_000_000
UA_LAPTOP, UA_PHONE = "Mozilla/5.0 (X11; Linux) Firefox/120", "Mozilla/5.0 (iPhone) Mobile"


def obs(identifier: I, ip: str, ua: str | None, day: float) -> tuple[I, str, str | None, int]:
    return identifier, ip, ua, T0 + int(day * DAY_MS)


def test_features_of_a_churned_cookie() -> None:
    old, new, user = I("cookie_id", "old"), I("cookie_id", "new"), I("user_id", "u1")
    histories = identifier_histories(
        [obs(old, "10.0.0.1", UA_LAPTOP, d) for d in (1, 2, 3)]
        + [obs(new, "10.0.0.1", UA_LAPTOP, d) for d in (5, 6)]
        + [obs(user, "10.0.0.1", UA_LAPTOP, d) for d in (1, 3)]
    )
    a = cluster_evidence([new], histories, account_types=IDENTITY_TYPES)
    b = cluster_evidence([old, user], histories, account_types=IDENTITY_TYPES)
    degrees = ip_degrees({0: a, 1: b})
    row = dict(zip(FEATURES, with_context([features(a, b, degrees, cap=25)])[0], strict=True))
    assert row["shared_ips"] == 1 and row["ip_jaccard"] == 1.0
    assert row["adamic_adar"] == pytest.approx(1 / math.log(3))
    assert row["shared_ip_user_agents"] == 1 and row["user_agent_jaccard"] == 1.0
    assert row["same_days"] == 0 and row["continuity_days"] == pytest.approx(2.0)
    assert row["b_has_account"] == 1.0 and row["size_b"] == 2
    # the two cookies were never used at the same time: one browser, a new cookie
    assert row["same_user_agent_overlap_days"] == 0.0
    assert row["ip_user_agent_rarity"] == pytest.approx(1 / math.log(3))
    assert row["rarity_lead"] == 10.0  # no other candidate


def test_capped_ips_give_no_candidates_and_are_reported() -> None:
    # five different phones behind one carrier NAT address
    histories = identifier_histories(
        [obs(I("cookie_id", f"c{n}"), "100.64.0.1", f"Phone/{n}", 1) for n in range(5)]
    )
    clusters = {
        n: cluster_evidence([I("cookie_id", f"c{n}")], histories, account_types=IDENTITY_TYPES)
        for n in range(5)
    }
    degrees = ip_degrees(clusters)
    excluded, groups = candidate_groups([0], [1, 2, 3, 4], clusters, degrees, cap=3)
    assert list(groups) == [] and excluded == {"100.64.0.1": 5}
    excluded, groups = candidate_groups([0], [1, 2, 3, 4], clusters, degrees, cap=5)
    assert list(groups) == [(0, [1, 2, 3, 4])] and excluded == {}


def test_labels_come_from_login_tied_profiles_without_shared_events() -> None:
    u1, e1, laptop, phone = (
        I("user_id", "u1"),
        I("email", "a@x.com"),
        I("cookie_id", "lap"),
        I("device_id", "ph"),
    )
    u2, other = I("user_id", "u2"), I("cookie_id", "neighbour")
    home = "203.0.113.9"
    observations = [
        # the laptop logs in: the same event is seen by the user_id and the e-mail
        obs(laptop, home, UA_LAPTOP, 1), obs(u1, home, UA_LAPTOP, 1), obs(e1, home, UA_LAPTOP, 1),
        obs(phone, home, UA_PHONE, 2), obs(u1, home, UA_PHONE, 2),
        obs(other, home, "Other/1", 3), obs(u2, home, "Other/1", 3),
    ]  # fmt: skip
    clusters = [[u1, e1, laptop, phone], [u2, other]]
    examples = training_examples(
        clusters, identifier_histories(observations), LinkingSettings(),
        {i: [(ip, ua, ts) for j, ip, ua, ts in observations if j == i] for i, *_ in observations},
    )  # fmt: skip
    X, y, groups = examples.matrix()
    assert X.shape[1] == len(FEATURES)
    assert set(y.tolist()) == {0, 1}
    positives = X[y == 1]
    # the held-out laptop does not see its own login event in the rest of its profile
    shared_ua = FEATURES.index("shared_ip_user_agents")
    assert all(row[shared_ua] == 0 for row in positives)
    assert set(groups.tolist()) <= {0, 1}
    # every profile query is also decided with its owner taken away: the other
    # profile is then the only candidate, and its context says it leads nobody
    laptop_query = next(q for q in examples.queries if q.family == "profile" and q.has_owner)
    assert len(laptop_query.absent) == len(laptop_query.rows) - 1
    lead = FEATURES.index("rarity_lead")
    assert all(row[lead] == 10.0 for row in laptop_query.absent)


def test_decisions_with_and_without_the_owner() -> None:
    assert decide([0.9, 0.2], margin=0.1) == (0, 0.9)
    assert decide([0.9, 0.85], margin=0.1) is None  # too close to call
    assert decide([], margin=0.1) is None
    owner_first = Query("profile", 0, [[0.0], [0.0]], absent=[[0.0]])
    scores, right, owned = simulated_decisions([owner_first], [[0.9, 0.3, 0.6]], margin=0.1)
    # with the owner: right at 0.9; without it: the housemate (0.6) would be wrong
    assert scores.tolist() == [0.9, 0.6] and right.tolist() == [1, 0] and owned == 1


def test_anonymous_browsers_compete_in_device_queries() -> None:
    """A device query faces the anonymous cookies on its IPs too, as at prediction (a
    housemate's browser that never logs in): wrong when it cannot be the query's own
    browser (another user agent, or used while one of its known cookies was),
    unknown otherwise; a decision for an unknown one is not judged."""
    user, first, second = I("user_id", "u1"), I("cookie_id", "c1"), I("cookie_id", "c2")
    alongside, after, other = (I("cookie_id", c) for c in ("a-along", "a-after", "a-other"))
    home = "203.0.113.7"
    observations = [
        obs(first, home, UA_LAPTOP, 1), obs(user, home, UA_LAPTOP, 1),
        obs(first, home, UA_LAPTOP, 9),
        obs(second, home, UA_LAPTOP, 10), obs(user, home, UA_LAPTOP, 10),
        obs(second, home, UA_LAPTOP, 19),
        obs(alongside, home, UA_LAPTOP, 5), obs(alongside, home, UA_LAPTOP, 15),  # same weeks
        obs(after, home, UA_LAPTOP, 25), obs(after, home, UA_LAPTOP, 29),  # after both
        obs(other, home, UA_PHONE, 25),
    ]  # fmt: skip
    clusters = [[user, first, second], [alongside], [after], [other]]
    raw = {i: [(ip, ua, ts) for j, ip, ua, ts in observations if j == i] for i, *_ in observations}
    examples = training_examples(clusters, identifier_histories(observations), LinkingSettings(),
                                 raw)  # fmt: skip
    device = [q for q in examples.queries if q.family == "device"]
    assert {q.customer for q in device} == {0}  # anonymous cookies are candidates, not queries
    for query in device:
        # candidates in key order: a-after, a-along, a-other, then the browser's other cookie
        assert query.labels == [UNKNOWN, 0, 0, 1]
        assert len(query.absent) == 2  # without its own cookie: the two that surely are not
    # fitted on the customer's own cookies only, as before anonymous ones competed:
    # the model is shared with the profile family
    for query in device:
        assert query.fitted is not None and query.fitted[1] == [1]
    X, y, _ = examples.matrix()
    assert UNKNOWN not in y.tolist() and len(X) == len(y)
    decided, _ = examples.decision_matrix()
    assert len(decided) == sum(len(q.all_rows()) for q in examples.queries)
    query = device[0]
    # its best candidate is the unknown one: a decision not to judge; without its own
    # cookie, the best of the others is wrong
    scores, right, owned = device_decisions([query], [[0.9, 0.5, 0.1, 0.8, 0.5, 0.1]])
    assert scores.tolist() == [0.9, 0.5] and right.tolist() == [UNKNOWN, 0] and owned == 1
    scores, right, _ = device_decisions([query], [[0.2, 0.5, 0.1, 0.8, 0.5, 0.1]])
    assert scores.tolist() == [0.8, 0.5] and right.tolist() == [1, 0]


def test_the_card_says_how_many_device_decisions_were_not_judged() -> None:
    estimate = {"target": 0.99, "reached": True, "precision": 0.995, "recall": 0.4,
                "accepted": 300, "unjudged": 12}  # fmt: skip
    why = family_why("device", estimate)
    assert "300 accepted; 12 more chose an anonymous cookie" in why
    # a card written before they were counted, or with none, says nothing of them
    assert "anonymous" not in family_why("device", {**estimate, "unjudged": 0})
    older = {k: v for k, v in estimate.items() if k != "unjudged"}
    assert family_why("device", older).endswith("(300 accepted)")


def test_the_precision_curve_carries_a_confidence_bound() -> None:
    scores = np.linspace(0.0, 1.0, 1001)
    labels = (scores > 0.3).astype(int)  # perfectly separable above 0.3
    curve = precision_curve(scores, labels)
    assert [p["threshold"] for p in curve] == sorted(scores.tolist(), reverse=True)
    clean = [p for p in curve if p["precision"] == 1.0]
    assert len(clean) == 700 and clean[-1]["precision_lower_bound"] > 0.99
    assert curve[0]["precision_lower_bound"] < 0.25  # one decision: too few to trust
    noisy = precision_curve(np.array([0.9] * 50 + [0.8] * 50),
                            np.array([1] * 50 + [1] * 49 + [0]))  # fmt: skip
    assert len(noisy) == 2 and max(p["precision_lower_bound"] for p in noisy) < 0.99


def test_model_conventions_and_persistence(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, len(FEATURES)))
    y = (X[:, 0] + 0.2 * rng.normal(size=600) > 0).astype(int)
    model = LinkModel(max_iter=50)
    assert model.get_params()["max_iter"] == 50
    with pytest.raises(NotFittedError):
        model.predict_proba(X)
    assert model.fit(X, y) is model
    assert model.threshold_ > 1  # no threshold chosen yet: links nothing
    model.thresholds_ = {"profile": 0.7, "device": 0.9}
    assert model.threshold_ == 0.7
    assert model.predict_proba(X).shape == (600, 2)
    save(model, {"version": "t", "features": list(FEATURES)}, tmp_path)
    again, metadata = load(tmp_path)
    assert metadata["version"] == "t" and "sklearn_version" in metadata
    assert np.allclose(again.predict_proba(X), model.predict_proba(X))
    assert (tmp_path / "link-model.json").exists()
    with pytest.raises(ValueError):
        LinkModel().fit(X, np.ones(600, dtype=int))


def test_model_scores_each_row_by_the_fold_that_did_not_see_it() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(900, len(FEATURES)))
    y = (X[:, 0] + 0.5 * rng.normal(size=900) > 0).astype(int)
    fold = np.arange(900) % 3
    model = LinkModel(max_iter=30).fit(X, y, fold)
    assert sorted(model.members_) == [0, 1, 2]
    for k in range(3):
        held_out = fold == k
        alone = model.fold_model(k).predict_proba(X[held_out])[:, 1]
        assert np.allclose(model.oof_[held_out], alone)
    # held-out scores rank worse than the ensemble's on rows it was fitted on
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, model.oof_) < roc_auc_score(y, model.predict_proba(X)[:, 1])
    assert 0.8 < roc_auc_score(y, model.oof_) < 1
    # a fold whose training rows hold one class only learns nothing: its rows score 0
    y_one = y.copy()
    y_one[fold != 2] = 1
    partial = LinkModel(max_iter=30).fit(X, y_one, fold)
    assert sorted(partial.members_) == [0, 1] and (partial.oof_[fold == 2] == 0).all()


def test_a_model_of_an_older_idgraph_asks_to_be_retrained(tmp_path: Path) -> None:
    import joblib

    joblib.dump({"model": object(), "metadata": {"version": "old"}}, tmp_path / "link-model.joblib")
    with pytest.raises(ConfigError, match="retrain"):
        load(tmp_path)


def test_ip_degree_counts_devices_not_churned_cookies() -> None:
    home, nat = "203.0.113.7", "100.64.0.9"
    observations = [obs(I("cookie_id", f"c{n}"), home, UA_LAPTOP, n) for n in range(12)]
    observations += [obs(I("user_id", "u1"), home, UA_PHONE, 1)]
    observations += [obs(I("cookie_id", f"n{n}"), nat, f"Browser/{n}", 1) for n in range(12)]
    observations += [obs(I("cookie_id", f"x{n}"), nat, None, 1) for n in range(3)]
    histories = identifier_histories(observations)
    clusters = {
        i: cluster_evidence([i], histories, account_types=IDENTITY_TYPES) for i in histories
    }
    degrees = ip_degrees(clusters)
    # twelve cookies of one browser and an identified profile: two devices at home
    assert degrees[home] == 2
    # twelve browsers, and three clusters without a user agent (one device each)
    assert degrees[nat] == 15


def test_queries_come_from_a_sample_of_customers_facing_every_candidate() -> None:
    """Beyond ``training_customers``, queries are drawn from a seeded sample of the
    identified profiles; each faces the same candidates as without the sample."""
    observations, clusters = [], []
    for n in range(30):
        user, laptop, tablet = (
            I("user_id", f"u{n}"),
            I("cookie_id", f"c{n}"),
            I("cookie_id", f"d{n}"),
        )
        home = f"203.0.113.{n // 3}"  # three customers a home: candidates for each other
        observations += [
            obs(laptop, home, f"Laptop/{n}", 10 + n), obs(user, home, f"Laptop/{n}", 10 + n),
            obs(tablet, home, f"Tablet/{n}", 100 + n), obs(tablet, home, f"Tablet/{n}", 200 + n),
        ]  # fmt: skip
        clusters.append([user, laptop, tablet])
    histories = identifier_histories(observations)
    raw = {i: [(ip, ua, ts) for j, ip, ua, ts in observations if j == i] for i, *_ in observations}

    def rows(examples: Any) -> dict[tuple[int, str], list[Any]]:
        found: dict[tuple[int, str], list[Any]] = {}
        for q in examples.queries:
            found.setdefault((q.customer, q.family), []).append((q.rows, q.absent, q.labels))
        return found

    full = rows(training_examples(clusters, histories, LinkingSettings(), raw))
    sampled = training_examples(clusters, histories, LinkingSettings(training_customers=10), raw)
    again = training_examples(clusters, histories, LinkingSettings(training_customers=10), raw)
    asked = {q.customer for q in sampled.queries}
    assert len(asked) == 10 and asked == {q.customer for q in again.queries}  # seeded
    assert len({c for c, _ in full}) == 30
    assert rows(sampled) == {key: value for key, value in full.items() if key[0] in asked}
    # what train computes once and hands to its steps gives the same queries
    from ml.browsers import browser_chains
    from ml.scoring import graph_evidence

    settings = LinkingSettings()
    narrowest = browser_chains(histories, max_agents=settings.chain_widths[0])
    shared = training_examples(clusters, histories, settings, raw, chains=narrowest,
                               shared=graph_evidence(clusters, histories))  # fmt: skip
    assert rows(shared) == full


# times on 40 days (day, hour, ms into the hour): two lists often share days and hours
_TIMES = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 23), st.integers(0, 3_599_999)).map(
        lambda t: 1_700_000_000_000 + t[0] * 86_400_000 + t[1] * 3_600_000 + t[2]
    ),
    min_size=1,
    max_size=30,
)


@given(_TIMES, _TIMES)
def test_an_ips_days_and_hours_count_as_sets_would(a_ts: list[int], b_ts: list[int]) -> None:
    """IpStats keeps days and hour slots as bit sets (any order of times, any base):
    counts, shared counts and merges equal those of plain sets."""
    from ml.evidence import HOUR_MS, IpStats

    def stats(times: list[int]) -> IpStats:
        s = IpStats()
        for ts in times:
            s.add(ts, None)
        return s

    def days(times: list[int]) -> set[int]:
        return {t // 86_400_000 for t in times}

    def hours(times: list[int]) -> set[int]:
        return {t // HOUR_MS for t in times}

    a, b = stats(a_ts), stats(b_ts)
    assert (a.day_count, b.day_count) == (len(days(a_ts)), len(days(b_ts)))
    assert a.common_days(b) == b.common_days(a) == len(days(a_ts) & days(b_ts))
    assert a.common_hours(b) == b.common_hours(a) == len(hours(a_ts) & hours(b_ts))
    both = a.merge(b)
    assert both.day_count == len(days(a_ts) | days(b_ts))
    assert both.common_hours(stats(b_ts)) == len(hours(b_ts))
    assert (both.first, both.last, both.count) == (min(a_ts + b_ts), max(a_ts + b_ts),
                                                   len(a_ts) + len(b_ts))  # fmt: skip


_SEEN = st.lists(st.tuples(_TIMES.map(lambda ts: ts[0]), st.sampled_from([None, "ua-a", "ua-b"])),
                 min_size=0, max_size=12)  # fmt: skip


@given(_SEEN, _SEEN)
def test_an_ips_user_agents_span_as_a_dict_would(
    a_seen: list[tuple[int, str | None]], b_seen: list[tuple[int, str | None]]
) -> None:
    """IpStats keeps its one user agent alone and makes a dict at the second: what it
    reports (each user agent's first and last time), alone and merged either way, equals
    a plain dict's."""
    from ml.evidence import IpStats

    def stats(seen: list[tuple[int, str | None]]) -> IpStats:
        s = IpStats()
        for ts, ua in seen:
            s.add(ts, ua)
        return s

    def spans(seen: list[tuple[int, str | None]]) -> dict[str | None, tuple[int, int]]:
        out: dict[str | None, tuple[int, int]] = {}
        for ts, ua in seen:
            first, last = out.get(ua, (ts, ts))
            out[ua] = (min(first, ts), max(last, ts))
        return out

    a, b = stats(a_seen), stats(b_seen)
    assert dict(a.uas) == spans(a_seen) and dict(b.uas) == spans(b_seen)
    assert dict(a.merge(b).uas) == dict(b.merge(a).uas) == spans(a_seen + b_seen)
    assert (a.more_uas is None) == (len(spans(a_seen)) < 2)  # a dict only from the second
    before = dict(a.uas)
    a.merge(b).add(1, "ua-c")
    assert dict(a.uas) == before  # a merge shares no dict with its parts
