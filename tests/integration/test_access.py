"""Access control through the real app and store: keys, scopes, audit, limits."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.access.keys import SCOPES, create_key, hash_key, key_id_of
from app.api import create_app
from app.config import Config
from app.resources import Resources
from graph.ingest.events import now_ms
from graph.ingest.segment_messages import CALL_TYPES
from graph.store import ApiKeyRecord
from graph.store.runner import CACHED_TOPICS
from tests.conftest import login_event

SEGMENT_CALLS = {"batch", *CALL_TYPES}

EMAIL = "Jane.Doe@Example.com"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def key_with(resources: Resources, name: str, *scopes: str) -> str:
    key, _ = create_key(resources.store, name, scopes)
    return key


@pytest.fixture
def ingested(client: Any) -> None:
    response = client.post(
        "/v1/events", json={"events": [login_event("e1", email=EMAIL, user_id="u-1")]}
    )
    assert response.status_code == 200


def test_open_routes_hold_no_data_and_need_no_key(anonymous_client: Any) -> None:
    assert anonymous_client.get("/health").status_code == 200
    spec = anonymous_client.get("/openapi.json")
    assert spec.status_code == 200
    assert anonymous_client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/identifiers/email/a@example.com/profile"),
        ("get", "/v1/profiles/p-1"),
        ("post", "/v1/events"),
        ("get", "/v1/segments"),
        ("get", "/v1/exports"),
        ("delete", "/v1/profiles/p-1"),
        ("get", "/v1/keys"),
        ("get", "/v1/audit"),
        ("get", "/v1/model"),
        ("get", "/v1/quarantine"),
    ],
)
def test_no_key_is_401_with_a_challenge(anonymous_client: Any, method: str, path: str) -> None:
    response = getattr(anonymous_client, method)(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["code"] == 401 and body["status"] == "Unauthorized" and "API key" in body["message"]


def test_unknown_revoked_and_expired_keys_are_401(
    anonymous_client: Any, resources: Resources
) -> None:
    path = "/v1/profiles/p-1"
    unknown = anonymous_client.get(path, headers=bearer("idg_" + "x" * 43))
    assert unknown.status_code == 401 and "invalid_token" in unknown.headers["WWW-Authenticate"]
    key = key_with(resources, "soon-revoked", "read")
    assert anonymous_client.get(path, headers=bearer(key)).status_code == 404  # it works
    resources.store.revoke_api_key("soon-revoked", now=now_ms())
    revoked = anonymous_client.get(path, headers=bearer(key))
    assert revoked.status_code == 401 and "revoked" in revoked.get_json()["message"]
    # an expired key: stored as create_key would, with an expiry already past
    old = "idg_expired-key-for-the-test-" + "y" * 20
    resources.store.save_api_key(ApiKeyRecord("old", key_id_of(old), hash_key(old), ("read",),
                                              now_ms() - 10_000, now_ms() - 1))  # fmt: skip
    expired = anonymous_client.get(path, headers=bearer(old))
    assert expired.status_code == 401 and "expired" in expired.get_json()["message"]
    # a key that shares the public ID but not the hash is still refused
    assert anonymous_client.get(path, headers=bearer(key[:-1] + "!")).status_code == 401


def test_each_scope_opens_its_routes_only(
    anonymous_client: Any, resources: Resources, ingested: None
) -> None:
    read = bearer(key_with(resources, "reader", "read"))
    ingest = bearer(key_with(resources, "collector", "ingest"))
    market = bearer(key_with(resources, "marketer", "segments"))
    admin = bearer(key_with(resources, "officer", "admin"))
    lookup = f"/v1/identifiers/email/{EMAIL}/profile"
    events = {"events": [login_event("e2", email="b@example.com")]}
    assert anonymous_client.get(lookup, headers=read).status_code == 200
    assert anonymous_client.post("/v1/events", json=events, headers=read).status_code == 403
    assert anonymous_client.post("/v1/events", json=events, headers=ingest).status_code == 200
    denied = anonymous_client.get(lookup, headers=ingest)
    assert denied.status_code == 403
    assert "'read' scope" in denied.get_json()["message"]
    assert anonymous_client.get("/v1/segments", headers=market).status_code == 200
    assert anonymous_client.get("/v1/segments", headers=read).status_code == 403
    assert anonymous_client.get("/v1/keys", headers=market).status_code == 403
    assert anonymous_client.get("/v1/keys", headers=admin).status_code == 200
    erase = f"/v1/identifiers/email/{EMAIL}"
    assert anonymous_client.delete(erase, headers=read).status_code == 403
    assert anonymous_client.delete(erase, headers=admin).status_code == 200


def test_basic_auth_with_the_key_as_user_name(anonymous_client: Any, resources: Resources) -> None:
    """How Segment's and RudderStack's clients send their write key."""
    key = key_with(resources, "writer", "ingest")
    basic = base64.b64encode(f"{key}:".encode()).decode()
    response = anonymous_client.post(
        "/v1/events",
        json={"events": [login_event("e9", email="c@example.com")]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    bad = anonymous_client.post("/v1/events", json={"events": []},
                                headers={"Authorization": "Basic !!notbase64"})  # fmt: skip
    assert bad.status_code == 401


def test_every_route_declares_a_scope_and_the_spec_says_which(app: Any, client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    scheme = spec["components"]["securitySchemes"]["apiKey"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    seen = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # path-level, not an operation
                continue
            if path == "/health":
                assert operation["security"] == []
                continue
            requirement, *alternatives = operation["security"]
            (scope,) = requirement["apiKey"]
            assert scope in SCOPES, (method, path)
            # Segment's calls also document the key as a write key (HTTP Basic)
            assert alternatives in ([], [{"writeKey": [scope]}]), (method, path)
            assert bool(alternatives) == (path.split("/")[-1] in SEGMENT_CALLS), path
            assert f"`{scope}` scope" in operation["description"]
            seen += 1
    assert seen >= 32
    assert spec["components"]["securitySchemes"]["writeKey"]["scheme"] == "basic"
    for rule in app.url_map.iter_rules():  # no route falls back on the admin default
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith(("api-docs.", "static", "assets.", "console.static")):
            continue
        assert hasattr(view, "_idgraph_scope"), rule.endpoint


def test_keys_through_the_api_never_show_a_stored_key(client: Any, resources: Resources) -> None:
    created = client.post("/v1/keys", json={"name": "support", "scopes": ["read"]})
    assert created.status_code == 201
    key = created.get_json()["key"]
    assert key.startswith("idg_") and len(key) >= 40
    listing = client.get("/v1/keys").get_json()["keys"]
    assert {k["name"] for k in listing} == {"test-all", "support"}
    assert key not in json.dumps(listing) and hash_key(key) not in json.dumps(listing)
    assert client.post("/v1/keys", json={"name": "support", "scopes": ["read"]}).status_code == 422
    bad_scope = client.post("/v1/keys", json={"name": "x", "scopes": ["everything"]})
    assert bad_scope.status_code == 422
    assert client.delete("/v1/keys/support").get_json()["status"] == "revoked"
    assert client.delete("/v1/keys/support").status_code == 404
    assert client.get("/v1/profiles/p-1", headers=bearer(key)).status_code == 401


def test_the_audit_trail_records_who_read_whom_masked(
    anonymous_client: Any, client: Any, resources: Resources, ingested: None
) -> None:
    reader = bearer(key_with(resources, "desk", "read"))
    assert anonymous_client.get(f"/v1/identifiers/email/{EMAIL}/profile",
                                headers=reader).status_code == 200  # fmt: skip
    assert anonymous_client.get("/v1/keys", headers=reader).status_code == 403
    anonymous_client.get("/v1/profiles/p-1")  # no key
    page = client.get("/v1/audit?key=desk").get_json()
    actions = [(e["action"], e["status"], e["target"]) for e in page["entries"]]
    assert actions == [
        ("GET identifiers.identifier_profile", 200, "email:J***@E***.com"),
        ("GET access.list_keys", 403, ""),
    ]
    everything = client.get("/v1/audit?limit=1000").get_json()["entries"]
    assert {"(no key)", "desk", "test-all"} <= {e["key"] for e in everything}
    text = json.dumps(everything).lower()
    assert "jane.doe" not in text and "example.com" not in text
    # paging: two at a time gives the same entries in the same order
    paged, cursor = [], None
    while True:
        url = "/v1/audit?limit=2" + (f"&after={cursor}" if cursor else "")
        body = client.get(url).get_json()
        paged += body["entries"]
        cursor = body["next"]
        if cursor is None:
            break
    # (reading the trail is audited too: the pages also hold the reads since)
    assert [e["id"] for e in paged][: len(everything)] == [e["id"] for e in everything]
    assert paged[len(everything)]["action"] == "GET access.audit"
    # times before stream IDs begin (1970) mean "from the start"; cursors past what a
    # stream ID holds are a 422 (both were 503s, found by schemathesis)
    early = client.get("/v1/audit?since=0729-11-15T03:08:15Z&limit=1000").get_json()
    assert early["entries"][: len(everything)] == everything
    bad = client.get("/v1/audit?after=99999999999999999999-0")
    assert bad.status_code == 422 and "not an audit cursor" in bad.get_json()["message"]


def test_body_cap_is_413_with_the_limit(config: Config, resources: Resources) -> None:
    app = create_app(config.replace(max_request_bytes=4096), resources=resources)
    client = app.test_client()
    key = key_with(resources, "big", "ingest")
    events = [login_event(f"e{n}", email=f"p{n}@example.com") for n in range(60)]
    response = client.post("/v1/events", json={"events": events}, headers=bearer(key))
    assert response.status_code == 413
    assert "4,096 bytes" in response.get_json()["message"]
    small = client.post("/v1/events", json={"events": events[:2]}, headers=bearer(key))
    assert small.status_code == 200


def test_rate_limit_per_key_is_429_with_retry_after(config: Config, resources: Resources) -> None:
    app = create_app(config.replace(rate_limit_per_minute=5), resources=resources)
    client = app.test_client()
    first = bearer(key_with(resources, "busy", "read"))
    other = bearer(key_with(resources, "calm", "read"))
    codes = [client.get("/v1/profiles/p-1", headers=first).status_code for _ in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] in ([429, 429], [404, 429])  # window edge
    limited = client.get("/v1/profiles/p-1", headers=first)
    if limited.status_code == 429:
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "rate limit of 5" in limited.get_json()["message"]
    assert client.get("/v1/profiles/p-1", headers=other).status_code == 404  # its own budget


def test_key_records_and_segments_are_cached_until_one_changes(
    config: Config, resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request reads its key's record and the segment definitions: each process
    keeps them while no write changed them, and a write in another process (another
    store object) is seen at the next read."""
    from app.resources import connect

    key = key_with(resources, "cached", "read")
    resources.store.save_segment({"segment_id": "seg_a", "name": "a", "rule": {"has": "email"}},
                                 now=now_ms())  # fmt: skip
    other = connect(config)  # another process's store, cache and connections
    try:
        first = other.store.api_key(key_id_of(key))
        assert first is not None and first.revoked_at is None
        assert [s["segment_id"] for s in other.store.segments()] == ["seg_a"]

        reads: list[str] = []
        real_read = other.store._read

        def counting(name: str, *args: Any, **kwargs: Any) -> Any:
            reads.append(name)
            return real_read(name, *args, **kwargs)

        monkeypatch.setattr(other.store, "_read", counting)
        assert other.store.api_key(key_id_of(key)) == first
        other.store.segments()[0]["name"] = "changed by a caller"  # a copy
        assert other.store.segments()[0]["name"] == "a"
        assert reads == []  # served from the cache
        assert other.store.api_key("idg_unknown") is None  # never cached
        assert reads == ["api_key"]

        resources.store.revoke_api_key("cached", now=now_ms())  # this process
        resources.store.save_segment({"segment_id": "seg_b", "name": "b",
                                      "rule": {"has": "phone"}}, now=now_ms())  # fmt: skip
        revoked = other.store.api_key(key_id_of(key))
        assert revoked is not None and revoked.revoked_at is not None
        assert [s["segment_id"] for s in other.store.segments()] == ["seg_a", "seg_b"]
        resources.store.delete_segment("seg_a")
        assert [s["segment_id"] for s in other.store.segments()] == ["seg_b"]
    finally:
        other.close()


def test_a_request_reads_the_revisions_once_and_sees_its_own_writes(
    client: Any, resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request (a snapshot) reads the revisions of keys and segments in one round
    trip, however many cached reads it makes; a write of cached records inside it is
    seen by its next read."""
    store = resources.store
    key = key_with(resources, "snap", "segments")
    store.save_segment({"segment_id": "seg_a", "name": "a", "rule": {"has": "email"}},
                       now=now_ms())  # fmt: skip
    fetched: list[tuple[str, ...]] = []
    real = store._revisions

    def counting(topics: Any) -> Any:
        fetched.append(tuple(topics))
        return real(topics)

    monkeypatch.setattr(store, "_revisions", counting)
    store.begin_snapshot()
    try:
        assert store.api_key(key_id_of(key)) is not None
        assert [s["segment_id"] for s in store.segments()] == ["seg_a"]
        assert fetched == [CACHED_TOPICS]  # one MGET for all
        store.save_segment({"segment_id": "seg_b", "name": "b", "rule": {"has": "phone"}},
                           now=now_ms())  # fmt: skip
        assert [s["segment_id"] for s in store.segments()] == ["seg_a", "seg_b"]
    finally:
        store.end_snapshot()
    fetched.clear()
    store.segments()
    assert fetched == [("segments",)]  # outside a request: the topic alone
    # through the API: one read of the revisions per request
    fetched.clear()
    answer = client.get("/v1/segments", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and len(answer.get_json()["segments"]) == 2
    assert fetched == [CACHED_TOPICS]
    # a POST too: its ingest's tombstones come with the key's revision
    writer = key_with(resources, "snap-ingest", "ingest")
    fetched.clear()
    posted = client.post("/v1/events", json={"events": [login_event("s1", email="s@x.com")]},
                         headers={"Authorization": f"Bearer {writer}"})  # fmt: skip
    assert posted.status_code == 200 and posted.get_json()["accepted"] == 1
    assert fetched == [CACHED_TOPICS]
    reads: list[str] = []
    real_read = store._read
    monkeypatch.setattr(
        store, "_read", lambda name, *a, **k: reads.append(name) or real_read(name, *a, **k)
    )
    again = client.post("/v1/events", json={"events": [login_event("s2", email="s@x.com")]},
                        headers={"Authorization": f"Bearer {writer}"})  # fmt: skip
    assert again.status_code == 200 and "tombstones" not in reads  # kept from the last one
