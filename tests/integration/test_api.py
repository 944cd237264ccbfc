"""The HTTP API through the Flask test client, on the real store."""

from __future__ import annotations

from typing import Any

import pytest

from app.resources import Resources
from graph.resolve.resolution import resolve
from tests.conftest import TS
from tests.conftest import login_event as event


def assert_error_shape(body: dict[str, Any], code: int) -> None:
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]


def test_post_events_keeps_valid_ones_and_reports_the_rest(
    client: Any, resources: Resources
) -> None:
    response = client.post(
        "/v1/events",
        json={
            "events": [
                event("e1", email=" Jane.Doe@Example.com", cookie_id="c1", ip="99.2.177.235"),
                event("e2", email="n/a", phone="(415) 555-0123"),
                {
                    "event_id": "e3",
                    "timestamp": "yesterday",
                    "source": "web",
                    "type": "x",
                    "identifiers": {"email": "a@b.com"},
                },
                "not an object",
                event("e1", email="jane.doe@example.com"),
            ]
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (
        body["received"],
        body["accepted"],
        body["duplicates"],
        body["rejected"],
        body["rejected_parts"],
    ) == (5, 2, 1, 2, 1)
    by_index = {e["index"]: e for e in body["errors"]}
    assert by_index[1]["reason"] == "placeholder value" and not by_index[1]["whole_event"]
    assert by_index[2]["field"] == "timestamp" and by_index[2]["whole_event"]
    assert by_index[3]["whole_event"]
    assert resources.store.stats()["Event"] == 2
    replay = client.post("/v1/events", json={"events": [event("e1", email="x@y.com")]}).get_json()
    assert (replay["accepted"], replay["duplicates"]) == (0, 1)


def test_lookup_right_after_post(client: Any, resources: Resources) -> None:
    body = client.post(
        "/v1/events",
        json={
            "events": [
                event("e1", email="jane.doe@example.com", cookie_id="c1", ip="99.2.177.235"),
                event("e2", cookie_id="c1", phone="+1 415-555-0123"),
            ]
        },
    ).get_json()
    # a cookie seen with an e-mail once and a phone once cannot say they are one
    # person (a family laptop looks the same): it links neither until they meet
    assert body["profiles"]["profiles"] == 3 and body["profiles"]["quarantined"] == 1
    body = client.post(
        "/v1/events",
        json={"events": [event("e3", email="jane.doe@example.com", phone="4155550123")]},
    ).get_json()
    assert body["profiles"]["profiles"] == 1

    response = client.get("/v1/identifiers/phone/(415) 555-0123/profile")
    assert response.status_code == 200
    body = response.get_json()
    assert body["identifier"] == {"type": "phone", "value": "+14155550123"}
    profile = body["profile"]
    assert {(i["type"], i["value"]) for i in profile["identifiers"]} == {
        ("email", "jane.doe@example.com"),
        ("cookie_id", "c1"),
        ("phone", "+14155550123"),
    }
    assert profile["evidence"][0]["type"] == "ip"
    assert (
        profile["event_count"] == 3
        and profile["first_seen"] == TS
        and profile["sources"] == ["web"]
    )
    same = client.get("/v1/identifiers/email/%20Jane.Doe%40Example.COM/profile").get_json()
    assert same["profile"]["profile_id"] == profile["profile_id"]

    direct = client.get(f"/v1/profiles/{profile['profile_id']}")
    assert direct.status_code == 200 and direct.get_json() == profile
    # deterministic links only: nothing of this profile rests on a model link
    strict = client.get(f"/v1/profiles/{profile['profile_id']}?min_confidence=1").get_json()
    assert strict["identifiers"] == profile["identifiers"]
    assert strict["confidence"] == {"min_confidence": 1.0, "identifiers_left_out": 0,
                                    "model_links_left_out": 0}  # fmt: skip
    assert (
        client.get("/v1/identifiers/phone/4155550123/profile?min_confidence=2").status_code == 422
    )
    resolve(resources.store, resources.registry)  # a full rebuild agrees
    again = client.get(f"/v1/profiles/{profile['profile_id']}").get_json()
    assert {(i["type"], i["value"]) for i in again["identifiers"]} == {
        (i["type"], i["value"]) for i in profile["identifiers"]
    }


@pytest.mark.parametrize(
    "url, code",
    [
        ("/v1/identifiers/email/nobody@example.com/profile", 404),
        ("/v1/identifiers/email/not-an-email/profile", 422),
        ("/v1/identifiers/fax/123/profile", 422),
        ("/v1/identifiers/ip/8.8.8.8/profile", 404),
        ("/v1/profiles/prf_doesnotexist", 404),
        ("/v1/nothing-here", 404),
    ],
)
def test_errors_have_one_shape(client: Any, url: str, code: int) -> None:
    client.post("/v1/events", json={"events": [event("e1", cookie_id="c1", ip="8.8.8.8")]})
    response = client.get(url)
    assert response.status_code == code
    assert_error_shape(response.get_json(), code)


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": {"events": "nope"}}, 422),
        ({"json": {"events": []}}, 422),
        ({"json": {"wrong": []}}, 422),
        ({"json": [1, 2]}, 422),
        ({"data": "a=b", "content_type": "application/x-www-form-urlencoded"}, 422),
        ({"json": {"events": [{}] * 10_001}}, 422),
    ],
)
def test_malformed_requests_never_500(client: Any, kwargs: dict[str, Any], code: int) -> None:
    response = client.post("/v1/events", **kwargs)
    assert response.status_code == code, response.get_data(as_text=True)
    assert_error_shape(response.get_json(), code)


def test_method_not_allowed_has_the_shape_too(client: Any) -> None:
    response = client.delete("/v1/events")
    assert response.status_code == 405
    assert_error_shape(response.get_json(), 405)


def test_hostile_values_are_just_values(client: Any, resources: Resources) -> None:
    value = "x'}) MATCH (n) DETACH DELETE n //"
    body = client.post(
        "/v1/events", json={"events": [event("e1", user_id=value, email="a@x.com")]}
    ).get_json()
    assert body["accepted"] == 1
    resolve(resources.store, resources.registry)
    response = client.get(
        "/v1/identifiers/user_id/x'})%20MATCH%20(n)%20DETACH%20DELETE%20n%20%2F%2F/profile"
    )
    assert response.status_code == 200
    assert resources.store.stats()["Identifier"] == 2


def test_health(client: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "store": "ok", "redis": "ok"}


def test_health_reports_an_unreachable_store(
    client: Any, resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.errors import StoreUnavailable

    def down() -> None:
        raise StoreUnavailable("gone")

    monkeypatch.setattr(
        resources.store, "ping", down
    )  # the real store cannot be unplugged per test
    response = client.get("/health")
    assert response.status_code == 503 and response.get_json()["store"] == "unavailable"


def test_store_outage_during_a_request_is_a_503(
    client: Any, resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.errors import StoreUnavailable

    def down(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("FalkorDB is unreachable", query="ready_profile")

    monkeypatch.setattr(resources.store, "ready_profile", down)
    response = client.get("/v1/identifiers/email/a@x.com/profile")
    assert response.status_code == 503
    assert_error_shape(response.get_json(), 503)


def test_openapi_and_docs(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "idgraph"
    paths = spec["paths"]
    assert {
        "/v1/events",
        "/v1/identifiers/{type_name}/{value}/profile",
        "/v1/profiles/{profile_id}",
        "/v1/segments",
        "/v1/segments/{segment_id}/members",
        "/v1/segments/{segment_id}/count",
        "/v1/exports",
        "/v1/exports/{export_id}",
        "/v1/exports/{export_id}/file",
        "/v1/rfm",
        "/health",
    } <= set(paths)
    schemas = spec["components"]["schemas"]
    assert {"IngestResult", "SegmentInput", "Export", "Facts", "Rfm"} <= set(schemas)
    assert set(schemas["ExportInput"]["properties"]["format"]["enum"]) == {
        "google_customer_match",
        "meta_custom_audience",
        "csv",
        "jsonl",
    }
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"swagger" in docs.data.lower()
