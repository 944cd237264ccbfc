"""The look-up's fast path (app/api/lookup_fast_path.py) answers as Flask does — the
same status, body, headers, audit entry and metrics — and hands Flask every request
it does not answer itself, before writing anything for it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from app.access.audit import audit_trail
from app.access.keys import create_key
from app.api import create_app
from app.config import Config
from app.resources import Resources
from graph.ingest.events import Identifier
from tests.conftest import login_event as event

ROUTE = "/v1/identifiers/<string:type_name>/<path:value>/profile"


@pytest.fixture
def served(config: Config, resources: Resources) -> dict[str, Any]:
    """The app (rate limit 50 a minute), its keys, and Flask counting the requests it
    handles itself (its hooks never run for an answer of the fast path)."""
    app = create_app(config.replace(rate_limit_per_minute=50), resources=resources,
                     test_config={"TESTING": True})  # fmt: skip
    handled: list[str] = []
    first = app.before_request_funcs.setdefault(None, [])  # before the guard's hook
    first.insert(0, lambda: handled.append("flask"))
    keys = {scope: create_key(resources.store, f"{scope}-{uuid.uuid4().hex[:6]}", [scope])[0]
            for scope in ("read", "ingest")}  # fmt: skip
    writer = app.test_client()
    writer.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {keys['ingest']}"
    posted = writer.post("/v1/events", json={"events": [
        event("e1", email="ann@example.com", cookie_id="c-ann", phone="+14155550123"),
        event("e2", user_id="u/with/slashes", email="ann@example.com"),
    ]})  # fmt: skip
    assert posted.status_code == 200 and posted.get_json()["accepted"] == 2
    handled.clear()
    return {"app": app, "keys": keys, "handled": handled, "res": resources}


def _both(served: dict[str, Any], path: str, **headers: str) -> tuple[Any, Any, list[str]]:
    """The request through the app (fast path first) and through Flask alone; the
    audit entries each wrote; and whether Flask handled the first."""
    app, res, handled = served["app"], served["res"], served["handled"]
    trail = audit_trail(res)
    before = len(trail.entries(limit=1000)[0])
    handled.clear()
    fast = Client(app).get(path, headers=headers)
    by_fast = list(handled)
    middle = len(trail.entries(limit=1000)[0])
    flask_only = Client(app.wsgi_app.wsgi_app).get(path, headers=headers)
    entries = trail.entries(limit=1000)[0]
    first, second = entries[before:middle], entries[middle:]
    strip = ("id", "at", "request_id")
    assert [{k: v for k, v in e.items() if k not in strip} for e in first] == [
        {k: v for k, v in e.items() if k not in strip} for e in second
    ], "both paths leave the same audit entries"
    return fast, flask_only, by_fast


def _same(fast: Any, flask_only: Any) -> None:
    assert fast.status == flask_only.status
    assert fast.get_data() == flask_only.get_data()
    drop = {"X-Request-ID"}
    assert [(k, v) for k, v in fast.headers.items() if k not in drop] == [
        (k, v) for k, v in flask_only.headers.items() if k not in drop
    ]
    assert fast.headers["X-Request-ID"] and flask_only.headers["X-Request-ID"]


def _bearer(served: dict[str, Any], scope: str = "read") -> dict[str, str]:
    return {"Authorization": f"Bearer {served['keys'][scope]}"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/identifiers/email/ann@example.com/profile",
        "/v1/identifiers/email/%20Ann@Example.COM/profile",  # normalized like ingest
        "/v1/identifiers/phone/(415)%20555-0123/profile",
        "/v1/identifiers/user_id/u/with/slashes/profile",  # the path converter
        "/v1/identifiers/email/ann@example.com/profile?min_confidence=0.5",
        "/v1/identifiers/email/ann@example.com/profile?min_confidence=1",
        "/v1/identifiers/email/nobody@example.com/profile",  # 404
        "/v1/identifiers/cookie_id/never-seen/profile",  # 404
    ],
)
def test_the_fast_path_answers_plain_lookups_as_flask_does(
    served: dict[str, Any], path: str
) -> None:
    fast, flask_only, handled = _both(served, path, **_bearer(served))
    assert handled == [], "answered by the fast path, not by Flask"
    assert fast.status_code in (200, 404)
    _same(fast, flask_only)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/v1/identifiers/email/not-an-email/profile", "read", 422),
        ("/v1/identifiers/shoe_size/42/profile", "read", 422),
        ("/v1/identifiers/email/ann@example.com/profile?min_confidence=2", "read", 422),
        ("/v1/identifiers/email/ann@example.com/profile?min_confidence=abc", "read", 422),
        ("/v1/identifiers/email/ann@example.com/profile?min_confidence=", "read", 422),
        ("/v1/identifiers/email/ann@example.com/profile?unknown=1", "read", None),
        ("/v1/identifiers/email/ann@example.com/profile", None, 401),
        ("/v1/identifiers/email/ann@example.com/profile", "wrong", 401),
        ("/v1/identifiers/email/ann@example.com/profile", "ingest", 403),
        ("/v1/identifiers/email/ann@example.com", "read", None),  # another route
    ],
)
def test_what_the_fast_path_does_not_answer_goes_to_flask_untouched(
    served: dict[str, Any], path: str, headers: str | None, status: int | None
) -> None:
    sent = {"Authorization": "Bearer idg_not_a_key"} if headers == "wrong" else (
        _bearer(served, headers) if headers else {})  # fmt: skip
    fast, flask_only, handled = _both(served, path, **sent)
    assert handled == ["flask"]
    if status is not None:
        assert fast.status_code == status
    _same(fast, flask_only)


def test_basic_auth_request_ids_and_metrics_as_flask(served: dict[str, Any]) -> None:
    app = served["app"]
    basic = base64.b64encode(f"{served['keys']['read']}:".encode()).decode()
    path = "/v1/identifiers/email/ann@example.com/profile"
    fast, flask_only, handled = _both(served, path, Authorization=f"Basic {basic}",
                                      **{"X-Request-ID": "desk-42"})  # fmt: skip
    assert handled == [] and fast.status_code == 200
    _same(fast, flask_only)
    assert fast.headers["X-Request-ID"] == flask_only.headers["X-Request-ID"] == "desk-42"
    entries = audit_trail(served["res"]).entries(limit=1000)[0]
    assert [e["request_id"] for e in entries[-2:]] == ["desk-42", "desk-42"]
    assert entries[-1]["target"] == "email:a***@e***.com"  # masked, as Flask writes it
    samples = app.extensions["idgraph_metrics"].requests.collect()[0].samples
    counted = {(s.labels["route"], s.labels["status"]): s.value for s in samples
               if s.name.endswith("_total")}  # fmt: skip
    assert counted[(ROUTE, "200")] == 2  # one by each path


def test_a_rate_limited_key_gets_flask_429(served: dict[str, Any]) -> None:
    path = "/v1/identifiers/email/ann@example.com/profile"
    client = Client(served["app"])
    if time.time() % 60 > 50:  # the limit counts in one-minute windows: not across two
        time.sleep(61 - time.time() % 60)
    answers = [client.get(path, headers=_bearer(served)).status_code for _ in range(55)]
    assert answers[:50] == [200] * 50
    assert set(answers[50:]) == {429}
    limited = client.get(path, headers=_bearer(served))
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert limited.get_json()["message"].startswith("rate limit of 50 requests a minute")
    statuses = [e["status"] for e in audit_trail(served["res"]).entries(limit=1000)[0]
                if e["action"] == "GET identifiers.identifier_profile"]  # fmt: skip
    assert statuses.count(200) == 50 and statuses.count(429) == 6


@pytest.mark.parametrize("path_taken", ["fast", "flask"])
def test_a_rendered_profile_is_kept_ready_once_the_answer_is_sent(
    served: dict[str, Any], path_taken: str
) -> None:
    """A look-up whose profile had no current ready document renders it and saves
    it for the next look-up after the answer has been sent (the server closes the
    body), not before: a write less in front of the answer."""
    app, res, handled = served["app"], served["res"], served["handled"]
    wsgi = app if path_taken == "fast" else app.wsgi_app.wsgi_app
    ann = Identifier("email", "ann@example.com")
    assert res.store.ready_profile(ann).document is None, "nobody looked ann up yet"
    environ = EnvironBuilder(path="/v1/identifiers/email/ann@example.com/profile",
                             headers=_bearer(served)).get_environ()  # fmt: skip
    body, status, _headers = run_wsgi_app(wsgi, environ, buffered=False)
    assert status.startswith("200") and (handled == []) == (path_taken == "fast")
    answer = json.loads(b"".join(body))
    assert res.store.ready_profile(ann).document is None, "saved before the answer was sent"
    body.close()  # the server is done with the answer
    assert json.loads(res.store.ready_profile(ann).document or "{}") == {
        k: v for k, v in answer["profile"].items() if k != "segments"
    }
