"""``idgraph train`` on a sample of the graph (ml/sampling.py, app/graph_sample.py),
read from the real store: the sample must be closed over what the features read, so
that the core's queries and decisions see what they would see in the whole graph."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from app.cli.support import EXIT_TARGET_UNREACHABLE
from app.config import Config
from app.graph_sample import read_sample
from app.linking import deterministic_plan, linking_settings, model_dir
from app.resources import Resources, connect
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from ml.evidence import identifier_histories, ip_degrees
from ml.scoring import cluster_evidences
from ml.synthetic import GeneratedData
from tests.conftest import run_cli, store_env


@pytest.fixture
def ingested(resources: Resources, small_data: GeneratedData) -> Resources:
    resources.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    return resources


@pytest.fixture
def sampling(config: Config, ingested: Resources) -> Iterator[Resources]:
    """The same graph, with ``train`` sampling a quarter of its IPs."""
    res = connect(dataclasses.replace(config, link_train_whole_limit=0, link_train_sample=500))
    yield res
    res.close()


def test_a_graph_under_the_limit_is_read_whole(ingested: Resources) -> None:
    assert read_sample(ingested, linking_settings(ingested)) is None


def test_the_sample_is_closed_over_what_the_core_reads(sampling: Resources) -> None:
    settings = linking_settings(sampling)
    sampled = read_sample(sampling, settings)
    assert sampled is not None
    sample = sampled.sample
    store, registry = sampling.store, sampling.registry
    whole = deterministic_plan(sampling)
    assert 0 < sample.share < 1 and sample.seed_ips
    assert sample.identifiers == sum(len(c) for c in whole.clusters)

    # the sample's clusters are the whole graph's, and fewer
    every = {frozenset(c) for c in whole.clusters}
    assert all(frozenset(c) in every for c in sampled.clusters)
    assert 0 < len(sampled.clusters) < len(whole.clusters)
    assert sampled.quarantined <= whole.quarantined

    everywhere = cluster_evidences(whole.clusters, identifier_histories(
        store.each_weak_observation(registry.strong_types, registry.weak_types)))  # fmt: skip
    full = ip_degrees(everywhere)
    evidence = cluster_evidences(sampled.clusters, identifier_histories(sampled.observations))
    degrees = ip_degrees(evidence)
    degrees = {**degrees, **sample.degrees}
    cap = settings.ip_cap
    core = sample.core
    assert core and all(w >= 1 for w in sample.weights.values())
    core_ips = {ip for n in core for ip in evidence[n].ips}
    assert sample.seed_ips <= core_ips
    # the core's IPs: exact wherever they make candidates
    for ip in core_ips:
        assert (degrees[ip] <= cap) == (full[ip] <= cap), ip
        if full[ip] <= cap:
            assert degrees[ip] == full[ip], ip
    # the IPs read lightly (only their degrees needed): exact
    assert sample.light_ips
    assert {ip: degrees[ip] for ip in sample.light_ips} == {ip: full[ip] for ip in sample.light_ips}
    # its candidates (everyone at those of them that make candidates) are all there,
    # and whether each of their IPs makes candidates is known
    usable = {ip for ip in core_ips if full[ip] <= cap}
    candidates = {n for n, ev in evidence.items() if ev.ips.keys() & usable}
    for n in candidates:
        for ip in evidence[n].ips:
            assert (degrees[ip] <= cap) == (full[ip] <= cap), ip
    assert len(candidates) == sum(1 for ev in everywhere.values() if ev.ips.keys() & usable)


@pytest.mark.slow
def test_train_on_a_sample_says_so(config: Config, ingested: Resources) -> None:
    env = store_env(config, IDGRAPH_LINK_TRAIN_WHOLE_LIMIT="0", IDGRAPH_LINK_TRAIN_SAMPLE="500")
    trained = run_cli("train", data_dir=config.data_dir, env=env)
    assert trained.returncode in (0, EXIT_TARGET_UNREACHABLE), trained.stderr
    folder = model_dir(ingested)
    if trained.returncode == 0:
        assert "trained on a sample of the graph" in trained.stdout
        metadata = json.loads((folder / "model-card.json").read_text())["data"]
        shown = run_cli("model", "show", data_dir=config.data_dir, env=env)
        assert "trained on a sample of the graph" in shown.stdout, shown.stderr
        summary = metadata["sample"]
        counted = json.loads((folder / "link-model.json").read_text())["estimated"]["device"]
    else:  # a small graph: the attempt's report says the same
        report = json.loads((folder / "last-failed-train.json").read_text())
        summary = report["sample"]
        counted = report["estimated"]["device"]
    assert summary["identifiers_in_graph"] > summary["core_clusters"] > 0
    assert 0 < summary["share_of_ips"] < 1
    # the core's anonymous clusters stand for the graph's: more than were scored
    scored = counted["budget"]["decisions_counted"]
    assert scored["anonymous_clusters"] >= scored["scored_clusters"] > 0


def test_the_decisions_made_in_a_forked_process_are_those_made_here(
    ingested: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``train`` makes the decisions' candidate rows in a child process (ml.background)
    from ``background_clusters`` clusters: the model and all it says are the same."""
    import os

    from ml.training import TargetUnreachable, train_model

    clusters, quarantined = deterministic_plan(ingested)
    registry = ingested.registry
    observations = list(
        ingested.store.each_weak_observation(registry.strong_types, registry.weak_types)
    )
    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    said = []
    for background in (0, 10**9):
        settings = dataclasses.replace(linking_settings(ingested), background_clusters=background)
        try:
            _, metadata = train_model(clusters, observations, settings, blocked=quarantined)
        except TargetUnreachable as e:
            metadata = e.report
        differ = ("version", "seconds", "_card", "settings")  # settings: background_clusters
        said.append({k: v for k, v in metadata.items() if k not in differ})
        assert len(forks) == 1  # the first forked, the second did not
    assert said[0] == said[1]
    assert said[0]["estimated"]["device"]["budget"]["decisions_counted"]["scored_clusters"] > 0


def test_a_closure_walked_again_is_the_one_the_store_gives(sampling: Resources) -> None:
    """The sample's reader walks the closure of identifiers it read before (read
    lightly, then whole) over the links it read then, stopping where the store's
    search stops (quarantined identifiers): the same closure as reading it again."""
    from app.graph_sample import UNBOUNDED, _Reader
    from graph.resolve.neighbourhood import neighbourhood

    store, registry = sampling.store, sampling.registry
    strong, weak = registry.strong_types, registry.weak_types
    keys = {ip.value: ip for ip in store.weak_identifier_counts(strong, weak, ("user_id",))}
    reader = _Reader(sampling, strong, weak, keys)
    reader.read_lightly(keys)  # everyone seen at an IP, their closures read
    settings, overrides = sampling.resolve_settings(), reader.overrides

    def read(seeds: set[Identifier]) -> tuple[set[Identifier], set[Identifier]]:
        scope = neighbourhood(store, seeds, strong, settings, overrides, UNBOUNDED,
                              deterministic=True)  # fmt: skip
        assert scope is not None
        return seeds | scope.nodes, scope.blocked

    _, stopped = read(set(reader.light))
    assert stopped  # the walk has somewhere to stop
    # each identifier next to a quarantined one, and some others, one at a time
    near = {m for link in reader.links.values() for m in (link.a, link.b)
            if link.a in stopped or link.b in stopped} - stopped  # fmt: skip
    seeds = sorted(near)[:150] + sorted(reader.light - near)[:150]
    assert any(len(read({seed})[0]) > 1 for seed in near)
    for seed in seeds:
        assert reader._closed({seed}) == read({seed})[0], seed
    assert reader._closed(set(seeds)) == read(set(seeds))[0]
