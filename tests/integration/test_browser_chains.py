"""Browser chains end to end through the real CLI and store (ml/browsers.py).

A world whose browsers renew their cookies every few days: `idgraph train` decides
the browser family (at a target of 0.98: on 800 persons the 95% bound of its
estimate stays under the default 0.99 since look-alike browsers of people who use
an address in turn are counted), `idgraph resolve` links the anonymous cookies of
logged-in browsers to their customer, and the ground truth agrees. A
world where everyone at home runs the same browser version: the family refuses
and says so, and nothing is linked by it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import Config
from app.linking import model_dir
from app.profiles import lookup_identifier
from app.resources import Resources
from graph.ingest.events import Identifier
from graph.resolve.integrity import IDENTITY_TYPES
from ml.evaluation import evaluate, merged_persons, read_truth
from ml.synthetic import generate
from tests.conftest import run_cli, store_env


@pytest.mark.slow
def test_churned_cookies_chain_to_their_customer(
    config: Config, resources: Resources, tmp_path: Path
) -> None:
    data = generate(tmp_path / "churn", persons=800, seed=41, cookie_days=(2, 10))
    env = store_env(config, IDGRAPH_LINK_TARGET_PRECISION="0.98")
    data_dir = config.data_dir
    assert run_cli("ingest", str(data.events_path), data_dir=data_dir, env=env).returncode == 0
    assert run_cli("resolve", data_dir=data_dir, env=env).returncode == 0
    truth = read_truth(data.truth_path)
    before = evaluate(resources.store.assignments(), truth)

    trained = run_cli("train", data_dir=data_dir, env=env)
    assert trained.returncode == 0, trained.stderr
    assert "browser chains: estimated precision" in trained.stdout
    # the other families' misses are no warning while browser chains apply
    assert "warning:" not in trained.stderr, trained.stderr
    card = json.loads((model_dir(resources) / "model-card.json").read_text())
    browser = card["thresholds"]["browser"]["estimated"]
    assert browser["reached"] and browser["precision_lower_bound"] >= 0.98

    resolved = run_cli("resolve", data_dir=data_dir, env=env)
    assert resolved.returncode == 0, resolved.stderr
    assert "browser chains" in resolved.stdout
    after = evaluate(resources.store.assignments(), truth)
    assert after.bcubed_precision >= 0.995
    assert after.bcubed_recall >= before.bcubed_recall + 0.1
    assert merged_persons(resources.store.assignments(), truth) == 0
    # chain links are stored as model links, with the estimated precision as score
    links = resources.store.model_links()
    assert links and {round(lk.weight, 4) for lk in links} == {round(browser["precision"], 4)}

    # confidence-aware look-ups: a support desk asking for deterministic links only
    # gets the customer without the cookies only a chain tied to them
    assignments = resources.store.assignments()
    members: dict[str, list[Identifier]] = {}
    for identifier, pid in assignments.items():
        members.setdefault(pid, []).append(identifier)
    link = next(lk for lk in links
                if any(m.type in IDENTITY_TYPES for m in members[assignments[lk.a]]))  # fmt: skip
    person = next(m for m in members[assignments[link.a]] if m.type in IDENTITY_TYPES)
    whole = lookup_identifier(resources.store, resources.registry, person.type, person.value)
    strict = run_cli("lookup", "--min-confidence", "1", person.type, person.value,
                     data_dir=data_dir, env=env)  # fmt: skip
    assert strict.returncode == 0, strict.stderr
    core = json.loads(strict.stdout)["profile"]
    assert core["profile_id"] == whole["profile"]["profile_id"]
    assert core["confidence"]["model_links_left_out"] >= 1
    left_out = core["confidence"]["identifiers_left_out"]
    assert left_out >= 1 and len(core["identifiers"]) + left_out == len(
        whole["profile"]["identifiers"]
    )
    kept = {(i["type"], i["value"]) for i in core["identifiers"]}
    assert (person.type, person.value) in kept and not {tuple(link.a), tuple(link.b)} <= kept
    # its facts are those of the identifiers shown: the events they were seen in
    assert core["confidence"]["facts_of"] == "the identifiers shown"
    shown = resources.store.events_of_identifiers([Identifier(t, v) for t, v in kept])
    assert core["event_count"] == len(shown) < whole["profile"]["event_count"]
    assert sum(core["facts"]["events_by_type"].values()) == core["event_count"]
    loose = lookup_identifier(resources.store, resources.registry, person.type, person.value,
                              min_confidence=0.5)  # fmt: skip
    assert loose["profile"]["identifiers"] == whole["profile"]["identifiers"]

    # segment members and audience exports at a confidence: fewer cookies, same people
    made = run_cli("segments", "create", "--name", "e-mail holders", "--rule",
                   '{"has": "email"}', data_dir=data_dir, env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    segment_id = json.loads(made.stdout)["segment_id"]
    counts = {}
    for confidence in ("0", "1"):
        out = tmp_path / f"audience-{confidence}.jsonl"
        exported = run_cli("export", "audience", segment_id, "--format", "jsonl", "-o", str(out),
                           "--min-confidence", confidence, data_dir=data_dir, env=env)  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        values = sum(len(v) for r in rows for v in r["identifiers"].values())
        counts[confidence] = (len(rows), values)
    assert counts["1"][0] == counts["0"][0]  # the same customers
    assert counts["1"][1] < counts["0"][1]  # without the identifiers chains brought
    page = run_cli("segments", "members", segment_id, "--limit", "1000", "--min-confidence", "1",
                   data_dir=data_dir, env=env)  # fmt: skip
    trimmed = [m for m in json.loads(page.stdout)["members"] if "confidence" in m]
    assert trimmed and all(m["confidence"]["identifiers_left_out"] > 0 for m in trimmed)


@pytest.mark.slow
def test_look_alike_browsers_refuse_chains_loudly(config: Config, resources: Resources,
                                                   tmp_path: Path) -> None:  # fmt: skip
    data = generate(tmp_path / "alike", persons=800, seed=42, cookie_days=(2, 10), ua_versions=2,
                    household_same_ua=0.9, household_sizes=(0, 40, 40, 20))  # fmt: skip
    env, data_dir = store_env(config), config.data_dir
    assert run_cli("ingest", str(data.events_path), data_dir=data_dir, env=env).returncode == 0
    assert run_cli("resolve", data_dir=data_dir, env=env).returncode == 0
    trained = run_cli("train", data_dir=data_dir, env=env)
    assert "browser chains: estimated precision" in trained.stderr, trained.stderr
    assert "no browser chains" in trained.stderr
    folder = model_dir(resources)
    if trained.returncode == 5:  # the model's families could not reach it either
        estimated = json.loads((folder / "last-failed-train.json").read_text())["estimated"]
    else:
        assert trained.returncode == 0, trained.stderr
        card = json.loads((folder / "model-card.json").read_text())
        estimated = {f: entry["estimated"] for f, entry in card["thresholds"].items()}
    assert estimated["browser"]["reached"] is False
    assert estimated["browser"]["overlapping_groups"] > 0
    if estimated["browser"]["precision_lower_bound"] < 0.9:  # the model's families too
        for family in ("profile", "device"):
            assert estimated[family]["refused"] and estimated[family]["reached"] is False
        assert trained.returncode == 5  # nothing links
        assert "look-alike browsers" in trained.stdout + trained.stderr
