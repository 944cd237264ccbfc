"""Model-scored links end to end through the real CLI, store and API: train -> resolve.

These test the mechanism (training, refusal, model card, explanations); quality
across worlds is measured by ``bench/quality.py --worlds`` (docs/quality.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import Config
from app.explain import explain
from app.linking import model_dir
from app.resources import Resources
from ml.evaluation import evaluate, read_truth
from ml.synthetic import GeneratedData, generate
from tests.conftest import run_cli, store_env, with_key


@pytest.fixture(scope="module")
def medium_data(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    """1,500 generated persons: enough login-tied devices to learn from."""
    return generate(tmp_path_factory.mktemp("medium"), persons=1500, seed=21)


@pytest.mark.slow
def test_train_refuses_an_unreachable_target_and_keeps_the_model(
    config: Config, resources: Resources, medium_data: GeneratedData, tmp_path: Path
) -> None:
    data_dir = config.data_dir
    env = store_env(config)
    assert (
        run_cli("ingest", str(medium_data.events_path), data_dir=data_dir, env=env).returncode == 0
    )
    assert run_cli("resolve", data_dir=data_dir, env=env).returncode == 0
    deterministic = evaluate(resources.store.assignments(), read_truth(medium_data.truth_path))

    # nothing to show yet
    shown = run_cli("model", "show", data_dir=data_dir, env=env)
    assert shown.returncode == 3 and "no link model" in shown.stderr

    # a target no threshold can reach: loud, exit 5, nothing saved. Its room is under
    # one wrong link's bound (at 0.9999 the browser chains' cheapest groups still fit:
    # they apply as many groups as the room holds, docs/architecture.md Round 11)
    unreachable = {**env, "IDGRAPH_LINK_TARGET_PRECISION": "0.9999",
                   "IDGRAPH_LINK_PROFILE_PRECISION": "0.9999999"}  # fmt: skip
    refused = run_cli("train", data_dir=data_dir, env=unreachable)
    assert refused.returncode == 5, refused.stderr
    assert "no threshold reaches the target precision" in refused.stderr
    assert "profile precision 0.9999999 leaves" in refused.stderr
    assert "best reachable" in refused.stderr and "recall" in refused.stderr
    folder = model_dir(resources)
    assert not (folder / "link-model.joblib").exists()
    failed = json.loads((folder / "last-failed-train.json").read_text())
    assert failed["estimated"]["profile"]["reached"] is False

    # a reachable target: saved with its card
    trained = run_cli("train", data_dir=data_dir,
                      env={**env, "IDGRAPH_LINK_TARGET_PRECISION": "0.95"})  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    model_file = folder / "link-model.joblib"
    saved = model_file.read_bytes()
    card = json.loads((folder / "model-card.json").read_text())
    assert set(card) >= {"data", "features", "thresholds", "calibration", "permutation_importance"}
    assert card["data"]["customers"] > 100 and card["data"]["pairs"]["positives"] > 100
    for family in ("profile", "device"):
        assert "why" in card["thresholds"][family]
    assert len(card["permutation_importance"]) == len(card["features"])
    for image in card["images"].values():
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (folder / "last-failed-train.json").exists()

    # the next unreachable attempt keeps that model, byte for byte, and says so
    again = run_cli("train", data_dir=data_dir, env=unreachable)
    assert again.returncode == 5
    assert model_file.read_bytes() == saved
    shown = run_cli("model", "show", data_dir=data_dir, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "threshold" in shown.stdout and "last training failed (model kept)" in shown.stdout

    # the API serves the same card
    from app.api import create_app

    client = with_key(create_app(config, resources=resources, test_config={"TESTING": True})
                      .test_client(), resources)  # fmt: skip
    body = client.get("/v1/model").get_json()
    assert body["card"]["version"] == card["version"]
    assert body["last_failed_train"]["error"].startswith("no threshold reaches")

    # resolve applies the kept model: links, explained with score and version
    resolved = run_cli("resolve", data_dir=data_dir, env=env)
    assert resolved.returncode == 0, resolved.stderr
    links = resources.store.model_links()
    assert links, resolved.stdout
    with_model = evaluate(resources.store.assignments(), read_truth(medium_data.truth_path))
    assert with_model.bcubed_recall > deterministic.bcubed_recall
    assert with_model.bcubed_precision >= 0.99
    body = explain(resources.store, resources.registry, links[0].a.type, links[0].a.value)
    for step in body["path"]:
        if step["kind"] == "model":
            assert step["model_version"] == card["version"]
    # resolving again with the same model and data has nothing to do; rebuilt, it
    # changes nothing
    assert run_cli("resolve", data_dir=data_dir, env=env).stdout.startswith("nothing to resolve")
    rebuilt = run_cli("resolve", "--full", data_dir=data_dir, env=env).stdout
    assert "0 identifiers moved" in rebuilt
