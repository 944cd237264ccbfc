"""The pure parts of a sampled ``train`` (ml/sampling.py)."""

from __future__ import annotations

import random

import pytest

from graph.ingest.events import Identifier
from ml.evidence import identifier_histories, ip_degrees
from ml.sampling import GraphSample, IpCount, degrees_at, inclusion, ip_counts, unit_hash
from ml.scoring import cluster_evidences

CAP, LIMIT = 25, 400


def test_what_the_counts_tell_of_an_ip() -> None:
    # at most cap identifiers: at most cap devices, whatever the clusters
    assert IpCount(identifiers=25, accounts=3).degree(CAP, LIMIT) == 25
    # more identified customers than the cap (one user_id a cluster): a network
    assert IpCount(identifiers=90, accounts=26).degree(CAP, LIMIT) == 26
    # too many identifiers to read whole: taken for a network
    assert IpCount(identifiers=401, accounts=0).degree(CAP, LIMIT) == CAP + 1
    # 60 cookies of a few browsers: only clustering them tells (read it whole)
    assert IpCount(identifiers=60, accounts=2).degree(CAP, LIMIT) is None


def test_ip_counts_by_value() -> None:
    counts = ip_counts({Identifier("ip", "1.2.3.4"): (14, 3)})
    assert counts == {"1.2.3.4": IpCount(identifiers=14, accounts=3)}


def test_seeds_are_stable_and_a_share() -> None:
    ips = [f"10.0.{a}.{b}" for a in range(40) for b in range(250)]
    drawn = [ip for ip in ips if unit_hash(7, ip) < 0.1]
    assert drawn == [ip for ip in ips if unit_hash(7, ip) < 0.1]  # the same every time
    assert 0.09 < len(drawn) / len(ips) < 0.11
    assert drawn != [ip for ip in ips if unit_hash(8, ip) < 0.1]  # another seed, others


def test_inclusion_and_what_the_core_stands_for() -> None:
    assert inclusion(0.1, 1) == pytest.approx(0.1)
    assert inclusion(0.1, 2) == pytest.approx(0.19)  # two homes: two chances
    assert inclusion(0.1, 0) == pytest.approx(0.1)  # seen at a seed, none counted
    sample = GraphSample(share=0.1, identifiers=1000, weights={0: 10.0, 3: 1 / 0.19})
    assert sample.core == {0, 3}
    assert sample.estimate([0, 1, 3]) == pytest.approx(10 + 1 / 0.19)  # 1: not core
    assert sample.summary()["core_clusters_stand_for"] == 15


def test_degrees_read_lightly_are_the_evidence_s() -> None:
    """Who was seen at an IP with which user agents gives its degree as the whole
    evidence does (ml.evidence.ip_degrees), on random clusters and events."""
    rng = random.Random(3)
    ips = [f"10.0.0.{n}" for n in range(6)]
    uas = [None, "UA a", "UA b", "UA c"]
    types = ("cookie_id", "cookie_id", "device_id", "email", "user_id")
    clusters = [[Identifier(rng.choice(types), f"v{n}.{k}") for k in range(rng.randint(1, 3))]
                for n in range(40)]  # fmt: skip
    observations = [(m, rng.choice(ips), rng.choice(uas), rng.randrange(10**9))
                    for members in clusters for m in members
                    for _ in range(rng.randint(1, 4))]  # fmt: skip
    agents: dict[Identifier, dict[str, list[str | None]]] = {}
    for m, ip, ua, _ in observations:
        agents.setdefault(m, {}).setdefault(ip, []).append(ua)
    whole = ip_degrees(cluster_evidences(clusters, identifier_histories(observations)))
    assert degrees_at(clusters, agents, ips) == {ip: whole[ip] for ip in ips}
