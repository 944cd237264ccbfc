"""Households through the real store and API: a family tablet that must not merge
two people makes them one household and belongs to it; a generated world's
households are precise; household IDs are stable across resolves."""

from __future__ import annotations

from typing import Any

from app.explain import explain
from app.households import resolve_households
from app.linking import resolve_all
from app.resources import Resources
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from ml.evaluation import household_quality, read_households, read_truth
from ml.synthetic import GeneratedData
from tests.integration.test_shared_devices import SECOND, TABLET, tablet_events


def test_a_family_tablet_makes_a_household_not_a_person(resources: Resources,
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

    again = resolve_all(resources)  # stable IDs
    assert again.households == report.households
    assert client.get(f"/v1/profiles/{parent}").get_json()["household_id"] == household_id
    assert client.get("/v1/households/hh_none").status_code == 404


def test_households_of_a_generated_world(resources: Resources,
                                         small_data: GeneratedData) -> None:  # fmt: skip
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
