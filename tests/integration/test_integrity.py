"""Profile integrity against the real store: merge protection, quarantine,
stable IDs with lineage, explanations, real-time updates, erasure."""

from __future__ import annotations

import collections
import json
import random
from typing import Any

import pytest

from app.resources import Resources
from graph.ingest.events import Identifier
from graph.ingest.readers import RawRecord, read_records
from graph.resolve.resolution import ResolveSettings, resolve
from ml.evaluation import evaluate, read_truth
from ml.synthetic import GeneratedData, generate
from tests.conftest import login_event as event
from tests.conftest import with_key


def post(client: Any, *events: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json={"events": list(events)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def profile_id(client: Any, type_name: str, value: str) -> str:
    response = client.get(f"/v1/identifiers/{type_name}/{value}/profile")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["profile"]["profile_id"]  # type: ignore[no-any-return]


def partition(res: Resources) -> set[frozenset[Identifier]]:
    groups: dict[str, set[Identifier]] = collections.defaultdict(set)
    for identifier, pid in res.store.assignments().items():
        groups[pid].add(identifier)
    return {frozenset(g) for g in groups.values()}


def test_merge_keeps_the_bigger_id_and_retired_ids_lead_to_it(client: Any) -> None:
    post(client, event("a", user_id="u1", email="a@x.com"), event("b", loyalty_id="L1"))
    big, small = profile_id(client, "user_id", "u1"), profile_id(client, "loyalty_id", "L1")
    assert big != small
    body = post(client, event("m", email="a@x.com", loyalty_id="L1"))
    assert body["profiles"]["merged"] == 1
    assert profile_id(client, "loyalty_id", "L1") == big

    retired = client.get(f"/v1/profiles/{small}")
    assert retired.status_code == 200
    payload = retired.get_json()
    assert (payload["profile_id"], payload["merged_into"], payload["requested_profile_id"]) == (
        big,
        big,
        small,
    )
    assert len(payload["identifiers"]) == 3
    lineage = client.get(f"/v1/profiles/{small}/lineage").get_json()
    assert (lineage["status"], lineage["merged_into"], lineage["current_profile_id"]) == (
        "retired",
        big,
        big,
    )
    assert client.get(f"/v1/profiles/{big}/lineage").get_json()["merged_from"] == [small]


def test_split_keeps_the_id_on_one_part_and_points_the_other_back(
    client: Any, resources: Resources
) -> None:
    post(
        client,
        event("1", user_id="u1", cookie_id="c-shared"),
        event("2", cookie_id="c-shared", email="b@x.com"),
    )
    # a cookie seen with two identities that nothing else ties is shared: it links
    # neither; a data engineer who knows better releases it, and they become one
    assert profile_id(client, "user_id", "u1") != profile_id(client, "email", "b@x.com")
    response = client.put("/v1/quarantine/cookie_id/c-shared", json={"override": "release"})
    assert response.status_code == 200
    resolve(resources.store, resources.registry, resources.resolve_settings())
    (only,) = {profile_id(client, "user_id", "u1"), profile_id(client, "email", "b@x.com")}
    # a data engineer forces the shared cookie into quarantine: the profile splits
    response = client.put("/v1/quarantine/cookie_id/c-shared", json={"override": "force"})
    assert response.status_code == 200 and response.get_json()["override"] == "force"
    report = resolve(resources.store, resources.registry, resources.resolve_settings())
    assert report.split == 2 and report.quarantined == 1
    ids = {profile_id(client, "user_id", "u1"), profile_id(client, "email", "b@x.com")}
    assert only in ids and len(ids) == 2
    (new,) = ids - {only}
    assert profile_id(client, "user_id", "u1") == only  # the part with the user_id keeps it
    assert client.get(f"/v1/profiles/{new}").get_json()["split_from"] == only
    cookie = profile_id(client, "cookie_id", "c-shared")
    lineage = client.get(f"/v1/profiles/{only}/lineage").get_json()
    assert lineage["split_into"] == sorted([new, cookie])
    listed = client.get("/v1/quarantine").get_json()["identifiers"]
    assert listed == [
        {
            "type": "cookie_id",
            "value": "c-shared",
            "degree": 2,
            "quarantined": True,
            "override": "force",
        }
    ]
    # resolving again changes nothing: stable IDs
    again = resolve(resources.store, resources.registry, resources.resolve_settings())
    assert again.moved == 0 and again.split == 0 and again.merged == 0


def test_realtime_updates_match_a_full_resolve_in_any_order(
    app: Any, resources: Resources, small_data: GeneratedData
) -> None:
    client = with_key(app.test_client(), resources)
    lines = [
        json.loads(line)
        for line in small_data.events_path.read_text().splitlines()
        if line.startswith("{") and line.endswith("}")
    ]
    rng = random.Random(5)
    rng.shuffle(lines)
    for start in range(0, len(lines), 400):
        client.post("/v1/events", json={"events": lines[start : start + 400]})
    realtime = partition(resources)
    store = resources.store
    store.delete_all()
    resources.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    resolve(store, resources.registry, resources.resolve_settings())
    assert partition(resources) == realtime


@pytest.fixture(scope="module")
def trap_data(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    """300 persons whose till placeholder e-mail was typed for several loyalty cards."""
    data = generate(tmp_path_factory.mktemp("traps"), persons=300, seed=12)
    cards = set()
    for line in data.events_path.read_text().splitlines():
        if "noemail@shopmail.com" in line and line.endswith("}"):
            event = json.loads(line)
            cards |= {i["value"] for i in event["identifiers"] if i["type"] == "loyalty_id"}
    assert len(cards) >= 2, "the generated data must contain the placeholder trap"
    return data


def test_placeholders_and_family_devices_glue_no_customers(
    resources: Resources, trap_data: GeneratedData
) -> None:
    truth = read_truth(trap_data.truth_path)
    resources.ingester().ingest_records(read_records(trap_data.events_path, "jsonl"))
    unprotected = resolve(
        resources.store,
        resources.registry,
        ResolveSettings(limits={}, quarantine_thresholds={}, quarantine_shared=False),
    )
    assert unprotected.quarantined == 0
    before = evaluate(resources.store.assignments(), truth)
    assert before.over_merged_profiles > 0, "the generated data must contain the traps"
    resolve(resources.store, resources.registry, resources.resolve_settings())
    after = evaluate(resources.store.assignments(), truth)
    assert after.over_merged_profiles == 0
    assert after.bcubed_precision == 1.0
    quarantined = {(q["type"], q["value"]) for q in resources.store.quarantine_list()}
    assert ("email", "noemail@shopmail.com") in quarantined


def test_explain_gives_the_chain_and_the_refusals(client: Any) -> None:
    post(
        client,
        event("1", user_id="u1", email="a@x.com"),
        event("2", email="a@x.com", cookie_id="c1"),
        event("3", cookie_id="c1", device_id="d1"),
        event("4", user_id="u2", device_id="tab"),
        event("5", user_id="u3", device_id="tab"),
    )
    pid = profile_id(client, "cookie_id", "c1")
    body = client.get(
        f"/v1/profiles/{pid}/explain", query_string={"type": "device_id", "value": "d1"}
    ).get_json()
    assert body["anchor"] == {"type": "user_id", "value": "u1"}
    hops = [(s["from"]["value"], s["to"]["value"]) for s in body["path"]]
    assert hops == [("d1", "c1"), ("c1", "a@x.com"), ("a@x.com", "u1")]
    assert body["path"][0]["evidence"]["event_ids"] == ["3"]
    assert body["path"][0]["kind"] == "deterministic" and body["path"][0]["evidence"]["count"] == 1
    tablet = client.get(f"/v1/profiles/{profile_id(client, 'device_id', 'tab')}/explain",
                        query_string={"type": "device_id", "value": "tab"}).get_json()  # fmt: skip
    assert tablet["quarantined"] is True
    assert {r["reason"] for r in tablet["refused"]} == {"quarantine"}
    wrong = client.get(
        f"/v1/profiles/{pid}/explain", query_string={"type": "user_id", "value": "u2"}
    )
    assert wrong.status_code == 422
    missing = client.get(f"/v1/profiles/{pid}/explain", query_string={"type": "user_id"})
    assert missing.status_code == 422


def test_forgetting_an_identifier_splits_its_profile_and_stays_forgotten(
    client: Any, resources: Resources
) -> None:
    post(
        client,
        event("1", user_id="u1", email="a@x.com", ip="8.8.4.4"),
        event("2", email="a@x.com", loyalty_id="L1"),
        event("3", user_id="u1", cookie_id="c1", ip="8.8.4.4"),
    )
    pid = profile_id(client, "user_id", "u1")
    assert profile_id(client, "loyalty_id", "L1") == pid
    response = client.delete("/v1/identifiers/email/A@X.com")
    assert response.status_code == 200
    body = response.get_json()
    # the answer names what was erased masked: it may end up in a ticket or a log
    assert body["identifiers"] == [{"type": "email", "value": "a***@x***.com"}]
    assert body["events"] == 0 and body["profiles_affected"] == [pid]
    assert client.get("/v1/identifiers/email/a@x.com/profile").status_code == 404
    # the e-mail was the only link between the user_id and the loyalty card: a split
    assert profile_id(client, "user_id", "u1") == pid
    card = profile_id(client, "loyalty_id", "L1")
    assert card != pid and client.get(f"/v1/profiles/{card}").get_json()["split_from"] == pid
    assert resources.store.profile_properties(pid)["size"] == 2  # u1 and c1
    # events stay for the other identifiers in them
    edges = resources.store.neighbourhood([Identifier("user_id", "u1")], ["ip"])
    assert [(lk.b.value, lk.weight) for lk in edges] == [("8.8.4.4", 2.0)]
    assert resources.store.stats()["Event"] == 3
    # replays and new events cannot bring the value back
    replay = post(
        client,
        event("1", user_id="u1", email="a@x.com", ip="8.8.4.4"),
        event("4", email="a@x.com"),
        event("5", email="a@x.com", user_id="u1"),
    )
    assert (replay["accepted"], replay["duplicates"], replay["rejected"]) == (1, 1, 1)
    reasons = {e["reason"] for e in replay["errors"]}
    assert "erased identifier (right to be forgotten)" in reasons
    assert client.get("/v1/identifiers/email/a@x.com/profile").status_code == 404
    assert client.delete("/v1/identifiers/email/a@x.com").status_code == 404


def test_forgetting_an_identifier_counts_its_profile_again(
    client: Any, resources: Resources
) -> None:
    post(
        client, event("1", user_id="u1", email="a@x.com"), event("2", user_id="u1", cookie_id="c1")
    )
    pid = profile_id(client, "user_id", "u1")
    assert resources.store.profile_properties(pid)["size"] == 3
    assert client.delete("/v1/identifiers/cookie_id/c1").status_code == 200
    assert profile_id(client, "user_id", "u1") == pid  # nothing moved: no split
    assert resources.store.profile_properties(pid)["size"] == 2


def test_erasing_a_profile_removes_it_and_its_former_ids(client: Any, resources: Resources) -> None:
    post(
        client, event("1", user_id="u9", email="z@x.com", ip="1.0.0.9"), event("2", loyalty_id="L9")
    )
    small = profile_id(client, "loyalty_id", "L9")
    post(client, event("3", email="z@x.com", loyalty_id="L9"))
    pid = profile_id(client, "user_id", "u9")
    response = client.delete(f"/v1/profiles/{pid}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["identifier_count"] == 3 and body["events"] == 3
    assert set(body["profiles_deleted"]) == {pid, small}
    assert body["orphans_removed"] == 1  # the ip no remaining event mentions
    for url in (
        f"/v1/profiles/{pid}",
        f"/v1/profiles/{small}",
        "/v1/identifiers/user_id/u9/profile",
    ):
        assert client.get(url).status_code == 404
    assert resources.store.stats()["Event"] == 0
    assert client.delete(f"/v1/profiles/{pid}").status_code == 404
    replay = post(client, event("1", user_id="u9", email="z@x.com", ip="1.0.0.9"))
    assert replay["rejected"] == 1
    assert replay["errors"][0]["reason"] == "event was erased (right to be forgotten)"
    fresh = post(client, event("new", user_id="u9", phone="(415) 555-0199"))
    assert fresh["accepted"] == 1 and fresh["rejected_parts"] == 1  # u9 stays erased


def test_an_erasure_in_another_process_is_refused_by_this_ones_next_ingest(
    config: Any, resources: Resources
) -> None:
    """Each process keeps the tombstones its ingests refuse (graph.store.erasure); an
    erasure made by another process (another store object) is refused at once."""
    from app.resources import connect
    from graph.resolve.erasure import erase_identifiers

    def ingest(res: Resources, *events: dict[str, Any]) -> Any:
        records = (RawRecord(n, raw=e) for n, e in enumerate(events))
        return res.ingester().ingest_records(records)

    other = connect(config)  # another process's store, cache and connections
    try:
        assert ingest(other, event("1", user_id="u7", email="gone@x.com")).accepted == 1
        assert ingest(other, event("2", email="gone@x.com")).accepted == 1  # kept: none erased
        erase_identifiers(resources.store, [Identifier("email", "gone@x.com")], now=1,
                          with_events=False)  # fmt: skip
        replay = ingest(other, event("3", user_id="u7", email="gone@x.com"))
        assert (replay.accepted, replay.rejected_parts) == (1, 1)
        assert ingest(other, event("4", email="gone@x.com")).rejected == 1
    finally:
        other.close()


def test_a_retried_post_updates_profiles(app: Any, config: Any, resources: Resources) -> None:
    from app.api import create_app

    quiet_app = create_app(
        config.replace(realtime_updates=False), resources=resources, test_config={"TESTING": True}
    )
    quiet = with_key(quiet_app.test_client(), resources)
    events = [event("1", user_id="u7", email="r@x.com")]
    assert quiet.post("/v1/events", json={"events": events}).get_json()["profiles"] is None
    client = with_key(app.test_client(), resources)
    assert client.get("/v1/identifiers/user_id/u7/profile").status_code == 404  # not resolved
    retry = post(client, *events)
    assert retry["duplicates"] == 1 and retry["profiles"]["profiles"] == 1
    assert client.get("/v1/identifiers/user_id/u7/profile").status_code == 200
