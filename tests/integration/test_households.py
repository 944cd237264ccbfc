"""Households through the real store and API: a family tablet that must not merge
two people makes them one household and belongs to it; a generated world's
households are precise; household IDs are stable across resolves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.audiences import write_audience
from app.config import Config
from app.explain import explain
from app.households import resolve_households
from app.linking import resolve_all
from app.resources import Resources
from app.segments import count_members, create_segment
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from ml.evaluation import household_quality, read_households, read_truth
from ml.synthetic import GeneratedData
from tests.conftest import run_cli, store_env
from tests.integration.test_shared_devices import SECOND, TABLET, tablet_events


def test_a_family_tablet_makes_a_household_not_a_person(config: Config, resources: Resources,
                                                         client: Any) -> None:  # fmt: skip
    resources.ingester().ingest_objects(tablet_events("email", "interleaved"))
    report = resolve_all(resources)
    assert report.households == {"households": 1, "profiles_in_households": 2,
                                 "shared_devices": 1}  # fmt: skip
    assigned = resources.store.assignments()
    parent = assigned[Identifier("user_id", "u-parent")]
    kid = assigned[Identifier("email", SECOND["email"])]
    assert parent != kid  # two people ...
    profile = client.get(f"/v1/profiles/{parent}").get_json()
    household_id = profile["household_id"]
    assert household_id and household_id.startswith("hh_")
    assert client.get(f"/v1/profiles/{kid}").get_json()["household_id"] == household_id
    body = client.get(f"/v1/households/{household_id}").get_json()  # ... one home
    assert {p["profile_id"] for p in body["profiles"]} == {parent, kid} and body["size"] == 2
    assert body["shared_devices"] == [{"type": "device_id", "value": TABLET}]
    told = explain(resources.store, resources.registry, "device_id", TABLET)
    assert told["quarantined"] and told["household_id"] == household_id

    shown = run_cli("household", household_id, data_dir=config.data_dir, env=store_env(config))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["shared_devices"] == body["shared_devices"]

    again = resolve_all(resources, full=True)  # stable IDs
    assert again.households == report.households
    assert client.get(f"/v1/profiles/{parent}").get_json()["household_id"] == household_id
    assert client.get("/v1/households/hh_none").status_code == 404


def test_households_of_a_generated_world(resources: Resources, small_data: GeneratedData,
                                         tmp_path: Path) -> None:  # fmt: skip
    resources.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    resolve_all(resources)
    households = resources.store.current_households()
    truth = read_truth(small_data.truth_path)
    homes = read_households(small_data.events_path.parent / "households.csv")
    quality = household_quality(resources.store.assignments(), households, truth, homes)
    assert quality["predicted_pairs"] > 10
    assert quality["precision"] >= 0.95 and quality["recall"] > 0.2
    before = dict(households)
    resolve_households(resources)  # nothing changed: the same households, the same IDs
    assert resources.store.current_households() == before

    # segment conditions on households, and one export row per household
    sharing = create_segment(resources, {"name": "sharing a home", "rule": {
        "field": "household.size", "op": ">=", "value": 2}})  # fmt: skip
    in_one = create_segment(resources, {"name": "in a household", "rule": {
        "field": "household.id", "op": "exists"}})  # fmt: skip
    assert count_members(resources, sharing["segment_id"])["count"] == len(households)
    assert count_members(resources, in_one["segment_id"])["count"] == len(households)
    everyone = create_segment(resources, {"name": "everyone", "rule": {
        "field": "size", "op": ">=", "value": 1}})  # fmt: skip
    total = count_members(resources, everyone["segment_id"])["count"]
    per_profile = write_audience(resources, everyone["segment_id"], "jsonl", tmp_path / "p.jsonl")
    per_home = write_audience(resources, everyone["segment_id"], "jsonl", tmp_path / "h.jsonl",
                              household=True)  # fmt: skip
    assert per_profile.rows == total
    assert per_home.rows == total - len(households) + len(set(households.values()))
    rows = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    home_rows = [r for r in rows if r["profile_id"].startswith("hh_")]
    assert len(home_rows) == len(set(households.values()))
    some = home_rows[0]
    members = [pid for pid, hid in households.items() if hid == some["profile_id"]]
    assigned = resources.store.assignments()
    expected = {i.value for i, pid in assigned.items() if pid in members and i.type == "email"}
    assert set(some["identifiers"].get("email", [])) == expected
