"""Segment's and RudderStack's own clients, Python and Node, pointed at a real
``idgraph serve``: page + identify + track + alias; afterwards the profile of the
e-mail holds the user ID, the anonymous IDs and the purchase facts.

The clients are installed by the project's own files (pyproject's dev extra,
package.json), unmodified; only their host setting points at idgraph.
"""

from __future__ import annotations

import gzip
import importlib
import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.resources import open_resources
from graph.ingest.events import Identifier
from tests.conftest import login_event, run_cli, serving, wait_until

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = ROOT / "tests" / "clients" / "send.mjs"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("segment") / "d"
    assert run_cli("store", "start", data_dir=data_dir).returncode == 0
    created = run_cli(
        "keys",
        "create",
        "--name",
        "site",
        "--scope",
        "ingest",
        "--scope",
        "read",
        data_dir=data_dir,
    )
    key = created.stdout.strip().splitlines()[-1]
    try:
        with serving(data_dir) as server:
            yield {"base": server.base, "key": key, "data_dir": data_dir}
    finally:
        run_cli("store", "stop", data_dir=data_dir)


def _ids(tag: str) -> dict[str, str]:
    n = uuid.uuid4().hex[:8]
    return {
        "anonymousId": f"anon-{tag}-{n}",
        "previousId": f"old-{tag}-{n}",
        "userId": f"user-{tag}-{n}",
        "email": f"{tag}.{n}@Example.com",
        "phone": f"+1415555{int(n, 16) % 10000:04d}",
        "orderId": f"o-{tag}-{n}",
    }


def _get(live: dict[str, Any], path: str) -> Any:
    request = urllib.request.Request(
        live["base"] + path, headers={"Authorization": f"Bearer {live['key']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _post(live: dict[str, Any], path: str, body: bytes, **headers: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        live["base"] + path,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {live['key']}",
            "Content-Type": "application/json",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _assert_profile(live: dict[str, Any], ids: dict[str, str]) -> None:
    email = urllib.parse.quote(ids["email"].lower())
    profile = _get(live, f"/v1/identifiers/email/{email}/profile")["profile"]
    members = {(i["type"], i["value"]) for i in profile["identifiers"]}
    assert ("user_id", ids["userId"]) in members
    assert ("anonymous_id", ids["anonymousId"]) in members
    assert ("anonymous_id", ids["previousId"]) in members  # the alias
    assert ("phone", ids["phone"]) in members
    full = _get(live, f"/v1/profiles/{profile['profile_id']}")
    facts = full["facts"]
    assert facts["purchase_count"] == 1 and facts["purchase_total"] == pytest.approx(42.5)
    assert facts["currencies"] == ["EUR"]
    assert {"page", "identify", "purchase", "alias"} <= set(facts["events_by_type"])
    assert facts["traits"]["name"]["value"] in ("Python Tester", "Node Tester")
    assert "email" not in facts["traits"]  # an identifier, not a trait


def _python_calls(client: Any, ids: dict[str, str]) -> None:
    context = {"ip": "203.0.113.66", "userAgent": "Mozilla/5.0 (python test)"}
    client.page(
        anonymous_id=ids["anonymousId"],
        name="Pricing",
        properties={"path": "/pricing"},
        context=context,
    )
    client.identify(
        user_id=ids["userId"],
        anonymous_id=ids["anonymousId"],
        context=context,
        traits={"email": ids["email"], "phone": ids["phone"], "name": "Python Tester"},
    )
    client.track(
        user_id=ids["userId"],
        event="Order Completed",
        context=context,
        properties={"order_id": ids["orderId"], "revenue": 42.5, "currency": "EUR"},
    )
    client.alias(previous_id=ids["previousId"], user_id=ids["userId"])
    client.flush()


@pytest.mark.parametrize(
    ("module", "use_gzip"),
    [("segment.analytics", False), ("segment.analytics", True), ("rudderstack.analytics", True)],
    ids=["segment-plain", "segment-gzip", "rudderstack"],  # RudderStack's default: gzip
)
def test_python_clients(live: dict[str, Any], module: str, use_gzip: bool) -> None:
    client_class = importlib.import_module(module).Client
    errors: list[Any] = []
    client = client_class(
        write_key=live["key"],
        host=live["base"],
        sync_mode=True,
        gzip=use_gzip,
        on_error=lambda e, batch: errors.append(e),
        max_retries=1,
    )
    ids = _ids(module.split(".")[0][:2])
    _python_calls(client, ids)
    assert errors == []
    _assert_profile(live, ids)


@pytest.mark.parametrize("kind", ["segment", "rudderstack"])
def test_node_clients(live: dict[str, Any], kind: str) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed (scripts/test.sh checks for it)"
    ids = _ids(f"node{kind[:2]}")
    result = subprocess.run(
        [node, str(NODE_SCRIPT), kind, live["base"], live["key"], json.dumps(ids)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_profile(live, ids)


def test_a_wrong_write_key_is_refused(live: dict[str, Any]) -> None:
    from segment.analytics import Client
    from segment.analytics.request import APIError

    client = Client(write_key="idg_not-a-key", host=live["base"], sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        client.track(user_id="nobody", event="Signed Up")
    assert refused.value.status == 401


def test_bad_messages_are_rejected_alone_and_recorded(live: dict[str, Any]) -> None:
    good = {
        "type": "identify",
        "messageId": "m-good-1",
        "userId": "u-bad-batch",
        "traits": {"email": "batch.mixed@example.com"},
        "timestamp": "2026-11-30T10:00:00Z",
    }
    batch = [
        good,
        {"type": "track", "messageId": "m-no-event", "userId": "u-bad-batch"},
        {"type": "identify", "messageId": "m-nobody", "traits": {"email": "x@example.com"}},
        {"type": "shout", "messageId": "m-type", "userId": "u-1"},
        "not an object",
        {
            "type": "track",
            "messageId": "m-big",
            "userId": "u-1",
            "event": "Big",
            "properties": {"blob": "x" * 40_000},
        },
        {
            "type": "identify",
            "messageId": "m-bad-email",
            "userId": "u-bad-batch-2",
            "traits": {"email": "not-an-email"},
            "timestamp": "2026-11-30T10:00:01Z",
        },
    ]
    status, body = _post(live, "/v1/batch", json.dumps({"batch": batch}).encode())
    assert status == 200 and body["success"] is True
    assert body["received"] == 7 and body["accepted"] == 2
    reasons = {e["index"]: e["reason"] for e in body["errors"]}
    assert "event name" in reasons[1]
    assert "userId or an anonymousId" in reasons[2]
    assert "type must be one of" in reasons[3]
    assert "JSON object" in reasons[4]
    assert "32 KB" in reasons[5]
    assert 6 in reasons  # the bad e-mail: that identifier alone (the event is kept)
    rejects = list((live["data_dir"] / "rejects").glob("api-*.jsonl"))
    text = "".join(p.read_text() for p in rejects)
    assert "m-no-event" in text and "/v1/batch" in text
    # a replay is a duplicate, not a second event
    status, again = _post(live, "/v1/batch", json.dumps({"batch": [good]}).encode())
    assert status == 200 and again["duplicates"] == 1 and again["accepted"] == 0


def test_batch_limits_and_gzip(live: dict[str, Any]) -> None:
    big = [
        {
            "type": "track",
            "messageId": f"m-lim-{n}",
            "userId": f"u-lim-{n}",
            "event": "Viewed",
            "properties": {"pad": "y" * 20_000},
        }
        for n in range(30)
    ]
    status, body = _post(live, "/v1/batch", json.dumps({"batch": big}).encode())
    assert status == 400 and "500 KB" in body["message"]
    small = {"batch": big[:3]}
    status, body = _post(
        live, "/v1/batch", gzip.compress(json.dumps(small).encode()), **{"Content-Encoding": "gzip"}
    )
    assert status == 200 and body["accepted"] == 3
    status, body = _post(
        live, "/v1/batch", b"\x1f\x8bnot gzip at all", **{"Content-Encoding": "gzip"}
    )
    assert status == 400 and "gzip" in body["message"]
    bomb = gzip.compress(b'{"batch": [' + b" " * (20 * 1024 * 1024) + b"]}")
    status, body = _post(live, "/v1/batch", bomb, **{"Content-Encoding": "gzip"})
    assert status == 413 and "decompressed" in body["message"]


def test_single_calls_and_clock_skew(live: dict[str, Any]) -> None:
    """``/v1/track`` etc. take one message; a device clock an hour fast is corrected
    (receivedAt - (sentAt - originalTimestamp)), an explicit timestamp is kept."""
    n = uuid.uuid4().hex[:8]
    skewed = {
        "messageId": f"m-skew-{n}",
        "userId": f"u-skew-{n}",
        "event": "Order Completed",
        "properties": {"total": "19.90", "currency": "USD"},
        "originalTimestamp": "2030-01-01T10:00:00Z",
        "sentAt": "2030-01-01T10:00:05Z",
        "context": {"traits": {"email": f"skew.{n}@example.com"}},
    }
    status, body = _post(live, "/v1/track", json.dumps(skewed).encode())
    assert status == 200 and body["accepted"] == 1, body
    status, body = _post(
        live,
        "/v1/identify",
        json.dumps(
            {
                "messageId": f"m-hist-{n}",
                "userId": f"u-skew-{n}",
                "timestamp": "2024-05-01T08:00:00Z",
                "traits": {"city": "Lyon"},
            }
        ).encode(),
    )
    assert status == 200 and body["accepted"] == 1
    profile = _get(live, f"/v1/identifiers/user_id/u-skew-{n}/profile")["profile"]
    full = _get(live, f"/v1/profiles/{profile['profile_id']}")
    assert full["facts"]["purchase_total"] == pytest.approx(19.9)
    assert full["first_seen"].startswith("2024-05-01T08:00:00")
    # the purchase happened ~5 s before it was received: now, not in 2030
    assert full["facts"]["last_purchase"] < "2030"
    assert full["facts"]["traits"]["city"]["value"] == "Lyon"


def test_the_server_keeps_a_looked_up_profile_ready_after_answering(
    live: dict[str, Any],
) -> None:
    """granian closes the look-up's answer once sent, and the ready document rendered
    for it is saved then (app.api.lookup_fast_path)."""
    ids = _ids("ready")
    body = {"events": [login_event(f"ev-{ids['userId']}", user_id=ids["userId"])]}
    status, answer = _post(live, "/v1/events", json.dumps(body).encode())
    assert status == 200 and answer["accepted"] == 1
    profile = _get(live, f"/v1/identifiers/user_id/{ids['userId']}/profile")["profile"]
    config = Config.load(env={}, overrides={"data_dir": live["data_dir"]})
    with open_resources(config) as res:
        wait_until(lambda: res.store.ready_profile(Identifier("user_id", ids["userId"])).document
                   is not None, "the ready document saved")  # fmt: skip
        document = res.store.ready_profile(Identifier("user_id", ids["userId"])).document
    assert json.loads(document or "{}")["profile_id"] == profile["profile_id"]
