"""Profiles kept ready to serve (graph/store/serving.py): a look-up answers from the
document the last one stored, and never with one a write has made stale."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from app.erasure import erase_identifier
from app.profiles import get_profile, lookup_identifier
from app.resources import Resources
from app.rfm import run_rfm
from app.segments import create_segment
from graph.errors import StoreUnavailable
from graph.ingest.events import Identifier
from graph.ingest.readers import RawRecord
from graph.resolve.resolution import resolve, update_profiles
from tests.conftest import login_event as event


def post(client: Any, *events: dict[str, Any]) -> None:
    response = client.post("/v1/events", json={"events": list(events)})
    assert response.status_code == 200 and response.get_json()["accepted"] == len(events)


def sent(response: Any) -> Any:
    """The test client's response once a server would have sent it: read and closed (a
    look-up that rendered its profile saves the ready document then)."""
    response.get_data()
    response.close()
    return response


def lookup(res: Resources, type_name: str, value: str) -> dict[str, Any]:
    return lookup_identifier(res.store, res.registry, type_name, value)["profile"]


def served_twice_as_stored(res: Resources, type_name: str, value: str) -> dict[str, Any]:
    """The look-up after a write (it may rebuild the document) and the one after it
    (from the document): both equal to the profile read in full now."""
    first = lookup(res, type_name, value)
    ready = res.store.ready_profile(Identifier(type_name, value))
    assert ready.document is not None, "the look-up kept its profile ready"
    second = lookup(res, type_name, value)
    full = get_profile(res.store, res.registry, first["profile_id"])
    assert first == second == json.loads(json.dumps(full))
    return second


def test_a_lookup_is_served_from_the_ready_document(
    client: Any, resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    post(client, event("e1", email="ann@example.com", cookie_id="c-ann"))
    first = sent(client.get("/v1/identifiers/email/ann@example.com/profile"))
    assert first.status_code == 200

    def unavailable(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("the full profile read must not run", query="profile_view")

    monkeypatch.setattr(resources.store, "profile", unavailable)
    again = client.get("/v1/identifiers/cookie_id/c-ann/profile")  # another member, same doc
    assert again.status_code == 200
    assert again.get_json()["profile"] == first.get_json()["profile"]
    # a look-up at a chosen confidence never uses it
    strict = client.get("/v1/identifiers/email/ann@example.com/profile?min_confidence=0.5")
    assert strict.status_code == 503


def test_no_write_leaves_a_stale_document_served(client: Any, resources: Resources) -> None:
    res = resources
    post(client, event("e1", email="bo@example.com", cookie_id="c-bo"))
    assert served_twice_as_stored(res, "email", "bo@example.com")["event_count"] == 1
    # a new event through the API (ingest and the real-time update)
    post(client, event("e2", email="bo@example.com"))
    assert served_twice_as_stored(res, "email", "bo@example.com")["event_count"] == 2
    # a real-time merge of two profiles whose documents were both ready
    post(client, event("e3", user_id="u-bo", phone="+14155550123"))
    other = served_twice_as_stored(res, "phone", "+14155550123")
    post(client, event("e3b", email="bo@example.com", user_id="u-bo"))
    merged = served_twice_as_stored(res, "phone", "+14155550123")
    assert merged == served_twice_as_stored(res, "email", "bo@example.com")
    assert {("email", "bo@example.com"), ("phone", "+14155550123"), ("user_id", "u-bo")} <= {
        (i["type"], i["value"]) for i in merged["identifiers"]
    }
    assert merged["event_count"] == 4 and other["event_count"] == 1
    # a bulk ingest with no real-time update (as `idgraph ingest` runs)
    purchase = {**event("e4", email="bo@example.com"), "type": "purchase",
                "properties": {"amount": 25.0, "currency": "EUR"}}  # fmt: skip
    report = res.ingester().ingest_records([RawRecord(1, purchase)])
    assert report.accepted == 1
    assert served_twice_as_stored(res, "email", "bo@example.com")["event_count"] == 5
    # a full resolve (facts), then RFM scores
    resolve(res.store, res.registry, res.resolve_settings())
    assert served_twice_as_stored(res, "email", "bo@example.com")["facts"]["purchase_count"] == 1
    run_rfm(res)
    assert served_twice_as_stored(res, "email", "bo@example.com")["rfm"] is not None
    # segments are evaluated at every look-up, never kept
    create_segment(res, {"name": "buyers", "rule": {"field": "purchase_count", "op": ">=",
                                                     "value": 1}})  # fmt: skip
    assert [s["name"] for s in lookup(res, "email", "bo@example.com")["segments"]] == ["buyers"]
    # erasure: no stored document keeps the value, even before the next look-up
    erase_identifier(res, "phone", "+14155550123")
    stored = res.store._read("profile_properties", {"profile_id": merged["profile_id"]})
    assert "+14155550123" not in json.dumps(stored[0][0] if stored else {})
    after = served_twice_as_stored(res, "email", "bo@example.com")
    assert "+14155550123" not in json.dumps(after)


@pytest.mark.parametrize("mark_profiles", [True, False])
def test_an_ingest_marks_its_profiles_unless_its_caller_will(
    resources: Resources, mark_profiles: bool
) -> None:
    """A bulk ingest makes the documents of its identifiers' profiles stale; the
    real-time path's ingest leaves that to the update that follows it."""
    res = resources
    res.ingester().ingest_records([RawRecord(1, event("e1", email="ma@example.com"))])
    resolve(res.store, res.registry, res.resolve_settings())
    served_twice_as_stored(res, "email", "ma@example.com")
    ingester = res.ingester(mark_profiles=mark_profiles)
    ingester.ingest_records([RawRecord(2, event("e2", email="ma@example.com"))])
    ready = res.store.ready_profile(Identifier("email", "ma@example.com"))
    assert (ready.document is None) is mark_profiles


def test_a_post_whose_real_time_update_is_skipped_still_makes_its_documents_stale(
    client: Any, resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real-time path's ingest does not mark profiles; when the update does not
    run (a neighbourhood over its limit), the request marks them itself."""
    import app.collection

    res = resources
    post(client, event("e1", email="sk@example.com"))
    assert served_twice_as_stored(res, "email", "sk@example.com")["event_count"] == 1

    def over_any_limit(*args: Any, **kwargs: Any) -> Any:
        return update_profiles(*args, **{**kwargs, "max_scope": 0})

    monkeypatch.setattr(app.collection, "update_profiles", over_any_limit)
    post(client, event("e2", email="sk@example.com", cookie_id="c-sk"))
    assert served_twice_as_stored(res, "email", "sk@example.com")["event_count"] == 2


def test_a_document_built_between_ingest_and_real_time_update_is_not_served_after_it(
    resources: Resources,
) -> None:
    res = resources
    first = res.ingester().ingest_records([RawRecord(1, event("e1", email="di@example.com"))])
    second = res.ingester().ingest_records([RawRecord(2, event("e2", user_id="u-di"))])
    resolve(res.store, res.registry, res.resolve_settings())
    assert first.accepted == second.accepted == 1
    joining = res.ingester(collect_touched=True)
    report = joining.ingest_records([RawRecord(3, event("e3", email="di@example.com",
                                                         user_id="u-di"))])  # fmt: skip
    before = served_twice_as_stored(res, "user_id", "u-di")  # not merged yet
    assert [i["type"] for i in before["identifiers"]] == ["user_id"]
    update_profiles(res.store, res.registry, report.touched, res.resolve_settings())
    merged = served_twice_as_stored(res, "user_id", "u-di")
    assert {i["type"] for i in merged["identifiers"]} == {"email", "user_id"}


def test_an_update_hands_on_once_its_locked_part_has_written_the_merge(
    resources: Resources,
) -> None:
    """``unlocked`` (where app.realtime starts the next update) comes after the lock is
    released, with the new profile memberships already stored; facts follow."""
    res = resources
    res.ingester().ingest_records([RawRecord(1, event("e1", email="ho@example.com"))])
    res.ingester().ingest_records([RawRecord(2, event("e2", user_id="u-ho"))])
    resolve(res.store, res.registry, res.resolve_settings())
    report = res.ingester(collect_touched=True).ingest_records(
        [RawRecord(3, event("e3", email="ho@example.com", user_id="u-ho"))]
    )
    steps: list[object] = []

    @contextlib.contextmanager
    def lock() -> Iterator[None]:
        steps.append("locked")
        yield
        steps.append("released")

    def unlocked() -> None:
        members = res.store.members_of_profiles_of([Identifier("user_id", "u-ho")])
        steps.append(("unlocked", sorted(m.type for m, _, _ in members)))

    update = update_profiles(res.store, res.registry, report.touched, res.resolve_settings(),
                             lock=lock(), unlocked=unlocked)  # fmt: skip
    assert steps == ["locked", "released", ("unlocked", ["email", "user_id"])]
    assert update is not None and update.merged == 1 and update.facts_refreshed >= 1


def test_a_document_read_before_a_write_is_not_served_after_it(
    client: Any, resources: Resources
) -> None:
    res = resources
    post(client, event("e1", email="cy@example.com"))
    ready = res.store.ready_profile(Identifier("email", "cy@example.com"))
    stale = json.dumps(get_profile(res.store, res.registry, ready.profile_id))
    post(client, event("e2", email="cy@example.com"))  # lands between read and save
    res.store.save_ready_profile(ready.profile_id, stale, revision=ready.revision,
                                 generation=ready.generation)  # fmt: skip
    assert res.store.ready_profile(Identifier("email", "cy@example.com")).document is None
    assert lookup(res, "email", "cy@example.com")["event_count"] == 2


@pytest.mark.parametrize("trait", ["city", "segments"])
def test_the_answer_built_around_the_document_is_what_the_schema_dumps(
    client: Any, resources: Resources, trait: str
) -> None:
    """The look-up's hot path splices segments into the stored document instead of
    dumping the profile through LookupSchema: the two must be the same JSON, whether
    the document was just rendered or read ready, and when a trait is itself named
    ``segments`` (then the document is decoded first)."""
    from app.api.schemas import LookupSchema

    purchase = {**event("e2", email="cy@example.com", loyalty_id="L-7"), "type": "purchase",
                "properties": {"amount": 12.5, "currency": "USD", "order_id": "o-1"}}  # fmt: skip
    post(client, {**event("e1", email="cy@example.com", phone="+14155550199",
                          cookie_id="c-cy"), "traits": {trait: "Lyon", "first_name": "Cy"}},
         purchase)  # fmt: skip
    create_segment(resources, {"name": "buyers", "rule": {"field": "purchase_count", "op": ">=",
                                                          "value": 1}})  # fmt: skip
    create_segment(resources, {"name": "none", "rule": {"field": "purchase_count", "op": ">=",
                                                        "value": 5}})  # fmt: skip
    answers = [sent(client.get("/v1/identifiers/phone/(415) 555-0199/profile")) for _ in range(2)]
    assert resources.store.ready_profile(Identifier("phone", "+14155550199")).document
    profile_id = answers[0].get_json()["profile"]["profile_id"]
    full = get_profile(resources.store, resources.registry, profile_id)  # no document used
    slow = {"identifier": {"type": "phone", "value": "+14155550199"}, "profile": full}
    expected = json.loads(json.dumps(LookupSchema().dump(slow)))
    for answer in answers:
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        assert answer.get_json() == expected
    assert [s["name"] for s in expected["profile"]["segments"]] == ["buyers"]
    assert expected["profile"]["traits"][trait] == "Lyon"


def test_an_app_made_again_on_the_same_resources_counts_each_update_once(
    config: Any, resources: Resources, app: Any
) -> None:
    """Each app's metrics observe the real-time updates; a second app on the same
    resources (tests, the demo) replaces the first one's observer instead of adding one."""
    from app.api import create_app

    first = dict(resources.update_queue.observers)
    create_app(config, resources=resources, test_config={"TESTING": True})
    assert list(resources.update_queue.observers) == list(first) == ["metrics"]
    assert resources.update_queue.observers["metrics"] != first["metrics"]
