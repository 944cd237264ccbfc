"""Resolution dry runs through the real CLI, store and API: the preview writes
nothing, and applying the same settings afterwards moves exactly the identifiers
its diff named, to the profiles it named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.config import Config
from app.resources import Resources
from graph.ingest.events import Identifier
from ml.synthetic import GeneratedData
from tests.conftest import run_cli, store_env

STRICT = "user_id=1,loyalty_id=1,email=1,phone=1"


def test_dry_run_then_apply_gives_exactly_the_diff(
    config: Config, resources: Resources, small_data: GeneratedData, tmp_path: Path
) -> None:
    env, data_dir = store_env(config), config.data_dir
    assert (
        run_cli("ingest", str(small_data.events_path), data_dir=data_dir, env=env).returncode == 0
    )
    assert run_cli("resolve", data_dir=data_dir, env=env).returncode == 0
    before = resources.store.assignments()
    profiles_before = set(before.values())

    diff_path = tmp_path / "diff.jsonl"
    dry = run_cli("resolve", "--dry-run", "--set", f"profile_limits={STRICT}",
                  "--diff", str(diff_path), data_dir=data_dir, env=env)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "nothing written" in dry.stdout and "profile sizes:" in dry.stdout
    assert resources.store.assignments() == before  # a dry run writes nothing
    diff = [json.loads(line) for line in diff_path.read_text().splitlines()]
    assert diff, dry.stdout  # stricter limits split profiles with two e-mails or phones
    assert any(row.get("new_profile") for row in diff)

    applied = run_cli(
        "resolve", data_dir=data_dir, env=store_env(config, IDGRAPH_PROFILE_LIMITS=STRICT)
    )
    assert applied.returncode == 0, applied.stderr
    after = resources.store.assignments()
    named = {Identifier(row["type"], row["value"]): row for row in diff}
    for identifier in set(before) | set(after):
        row = named.get(identifier)
        if row is None:
            assert after.get(identifier) == before.get(identifier), identifier
            continue
        assert row["from"] == before.get(identifier)
        if row.get("gone"):
            assert identifier not in after
        elif row["new_profile"]:
            anchor = Identifier(row["anchor"]["type"], row["anchor"]["value"])
            assert after[identifier] == after[anchor]
            assert after[identifier] not in profiles_before
        else:
            assert after[identifier] == row["to"]
    # and the summary's counts are those of the applied change
    moved = sum(1 for i in before if i in after and after[i] != before[i])
    assert f"{moved} identifiers move" in dry.stdout


def test_preview_over_the_api(client: Any, resources: Resources,
                              small_data: GeneratedData) -> None:  # fmt: skip
    from graph.ingest.readers import read_records
    from graph.resolve.resolution import resolve

    resources.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    resolve(resources.store, resources.registry, resources.resolve_settings())
    before = resources.store.assignments()
    answer = client.post("/v1/resolve/preview", json={"settings": {"profile_limits": STRICT},
                                                      "limit": 5})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["summary"]["splits"] > 0 and body["summary"]["settings"]["profile_limits"]
    assert len(body["diff"]) == 5 and body["truncated"] and body["diff_rows"] > 5
    assert body["summary"]["sizes"]["after"]["1"] >= body["summary"]["sizes"]["before"]["1"]
    assert resources.store.assignments() == before
    unchanged = client.post("/v1/resolve/preview", json={}).get_json()
    assert unchanged["diff_rows"] == 0 and unchanged["summary"]["merges"] == 0
    bad = client.post("/v1/resolve/preview", json={"settings": {"no_such_setting": "1"}})
    assert bad.status_code == 422 and "no_such_setting" in bad.get_json()["message"]
    # only settings resolution reads: never a path a model would be loaded from
    where = client.post("/v1/resolve/preview", json={"settings": {"data_dir": "/tmp/x"}})
    assert where.status_code == 422 and "cannot be previewed" in where.get_json()["message"]
    wrong = client.post("/v1/resolve/preview", json={"settings": {"handover_days": "soon"}})
    assert wrong.status_code == 422
