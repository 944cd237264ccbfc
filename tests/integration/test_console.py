"""The web console through Flask's test client on the real embedded store and Redis:
sign-in, sessions, CSRF and scopes, search, the profile page and its picture, the
segment editor, exports, operations, erasure. (The same pages in a real browser:
test_console_browser.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.access.keys import SCOPES, create_key, key_id_of, revoke_key
from app.config import Config
from app.linking import resolve_all, train
from app.resources import Resources, connect
from app.rfm import run_rfm
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from graph.store.address import ServerAddress
from ml.synthetic import GeneratedData
from tests.conftest import IDGRAPH

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class World:
    res: Resources
    app: Any


@pytest.fixture(scope="module")
def world(
    server: ServerAddress, small_data: GeneratedData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    from app.api import create_app

    url = f"unix://{server.unix_socket}"
    config = Config.load(env={}, overrides={
        "data_dir": tmp_path_factory.mktemp("console") / "data", "graph_url": url,
        "redis_url": url, "graph_name": "test_console_" + uuid.uuid4().hex[:8],
    })  # fmt: skip
    res = connect(config)
    res.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    resolve_all(res)  # as `idgraph resolve` does: health and the run's figures recorded
    run_rfm(res)
    yield World(res, create_app(config, resources=res, test_config={"TESTING": True}))
    res.store.drop()
    res.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def signed_in(world: World, scopes: tuple[str, ...] = tuple(SCOPES)) -> tuple[Any, str]:
    """A test client signed in (over HTTPS: the cookie is Secure) with a new key."""
    key, _ = create_key(world.res.store, "console-" + uuid.uuid4().hex[:8], scopes)
    client = world.app.test_client()
    page = client.get("/sign-in", base_url="https://localhost")
    answer = client.post("/sign-in", base_url="https://localhost", data={
        "api_key": key, "csrf_token": csrf_of(page.text), "next": "/"})  # fmt: skip
    assert answer.status_code == 303, answer.text
    return client, key


def get(client: Any, path: str, **kw: Any) -> Any:
    return client.get(path, base_url="https://localhost", **kw)


def post(client: Any, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, base_url="https://localhost", data=data, **kw)


def test_sign_in_sets_a_secure_session_cookie_and_sign_out_ends_it(world: World) -> None:
    key, _ = create_key(world.res.store, "console-cookie", ["read"])
    client = world.app.test_client()
    form = get(client, "/sign-in")
    assert form.status_code == 200
    assert 'type="password"' in form.text and 'name="api_key"' in form.text
    assert "Content-Security-Policy" in form.headers
    # no CSRF token: refused, whatever the key
    refused = post(client, "/sign-in", {"api_key": key})
    assert refused.status_code == 400  # the form again, with a new token
    wrong = post(client, "/sign-in", {"api_key": "idg_" + "x" * 43,
                                      "csrf_token": csrf_of(refused.text)})  # fmt: skip
    assert wrong.status_code == 401 and "not valid" in wrong.text
    form = get(client, "/sign-in")
    answer = post(client, "/sign-in", {"api_key": key, "csrf_token": csrf_of(form.text),
                                       "next": "https://evil.example/"})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"  # never an open redirect
    cookie = next(
        h for h in answer.headers.getlist("Set-Cookie") if h.startswith("idgraph_session=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert key not in cookie  # the key is never in the browser after sign-in
    home = get(client, "/")
    assert home.status_code == 200 and "console-cookie" in home.text
    assert post(client, "/sign-out", {}).status_code == 400  # CSRF on every form
    assert post(client, "/sign-out", {"csrf_token": csrf_of(home.text)}).status_code == 303
    after = get(client, "/")
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]


def test_pages_need_a_session_and_scripts_get_401(world: World) -> None:
    client = world.app.test_client()
    page = get(client, "/search?q=x")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/sign-in?next=/search")
    data = get(client, "/profiles/prf_x/cluster.json")
    assert data.status_code == 401 and data.json["code"] == 401
    # the API still wants its header: a console cookie is not an API credential
    browser, _ = signed_in(world)
    assert get(browser, "/v1/profiles/prf_x").status_code == 401


def test_what_a_key_may_do_decides_what_the_console_shows(world: World) -> None:
    marketer, _ = signed_in(world, ("segments",))
    home = get(marketer, "/")
    assert ">Segments<" in home.text and ">Search<" not in home.text
    denied = get(marketer, "/search?q=a@b.com")
    assert denied.status_code == 403 and "read" in denied.text
    assert get(marketer, "/segments").status_code == 200
    agent, _ = signed_in(world, ("read",))
    assert get(agent, "/segments").status_code == 403
    profile_id = next(iter(world.res.store.active_profiles()))
    page = get(agent, f"/profiles/{profile_id}")
    assert page.status_code == 200 and "Erase this customer" not in page.text
    admin, _ = signed_in(world)
    assert "Erase this customer" in get(admin, f"/profiles/{profile_id}").text


def test_revoking_the_key_ends_its_console_sessions(world: World) -> None:
    client, key = signed_in(world, ("read",))
    record = world.res.store.api_key(key_id_of(key))
    assert record is not None and get(client, "/").status_code == 200
    revoke_key(world.res.store, record.name)
    assert get(client, "/").status_code == 302


def _member_of_type(world: World, type_name: str) -> tuple[str, str]:
    for identifier, pid in world.res.store.assignments().items():
        if identifier.type == type_name:
            return identifier.value, pid
    raise AssertionError(f"no {type_name} in the world")


def test_search_takes_a_phone_as_a_caller_says_it(world: World) -> None:
    client, _ = signed_in(world)
    e164, pid = _member_of_type(world, "phone")
    assert e164.startswith("+1")
    spoken = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    found = get(client, "/search", query_string={"q": spoken})
    assert found.status_code == 302 and f"/profiles/{pid}" in found.headers["Location"]
    email, pid = _member_of_type(world, "email")
    odd = "  " + email.upper() + " "
    found = get(client, "/search", query_string={"q": odd})
    assert f"/profiles/{pid}" in found.headers["Location"]
    missing = get(client, "/search", query_string={"q": "nobody-here@example.org"})
    assert missing.status_code == 200 and "No customer has this identifier" in missing.text
    assert "nobody-here@example.org" in missing.text  # says what it looked for


def test_an_ambiguous_value_lets_the_user_choose(world: World) -> None:
    client, _ = signed_in(world)
    from graph.ingest.events import parse_event

    raw = {"event_id": "amb-1", "timestamp": "2026-03-10T08:48:34Z", "source": "web",
           "type": "login", "identifiers": {"user_id": "774411"}}  # fmt: skip
    raw2 = {**raw, "event_id": "amb-2", "identifiers": {"loyalty_id": "774411"}}
    for r in (raw, raw2):
        assert parse_event(r, world.res.registry).event is not None
    world.res.ingester().ingest_objects([raw, raw2])
    from graph.resolve.resolution import update_profiles

    update_profiles(world.res.store, world.res.registry,
                    [Identifier("user_id", "774411"), Identifier("loyalty_id", "774411")],
                    world.res.resolve_settings())  # fmt: skip
    page = get(client, "/search", query_string={"q": "774411"})
    assert page.status_code == 200 and "choose one" in page.text
    assert "user_id" in page.text and "loyalty_id" in page.text
    chosen = get(client, "/search", query_string={"q": "774411", "type": "loyalty_id"})
    assert chosen.status_code == 302


def test_the_profile_page_and_its_picture(world: World) -> None:
    client, _ = signed_in(world)
    sizes = world.res.store.largest_profiles(1)
    pid = sizes[0][0]
    page = get(client, f"/profiles/{pid}")
    assert page.status_code == 200
    record = world.res.store.profile(pid)
    assert record is not None
    for identifier in record.identifiers:
        assert identifier["value"] in page.text
    for section in ("Who", "Purchases", "RFM", "Segments", "Recent events", "Lineage",
                    "The cluster"):  # fmt: skip
        assert f">{section}<" in page.text
    picture = get(client, f"/profiles/{pid}/cluster.json").json
    nodes = [e["data"] for e in picture["elements"] if "source" not in e["data"]]
    members = [n for n in nodes if n["member"]]
    assert len(members) == len(record.identifiers)  # one node per identifier
    edges = [e["data"] for e in picture["elements"] if "source" in e["data"]]
    ids = {n["id"] for n in nodes}
    assert edges and all(e["source"] in ids and e["target"] in ids for e in edges)
    assert {e["kind"] for e in edges} <= {"observed", "model", "refused", "evidence"}
    with_ips = get(client, f"/profiles/{pid}/cluster.json?ips=1").json
    assert any(e["data"].get("weak") for e in with_ips["elements"])
    one = members[0]
    why = get(client, f"/profiles/{pid}/explain.json",
              query_string={"type": one["type"], "value": one["value"]})  # fmt: skip
    assert why.status_code == 200 and why.json["profile_id"] == pid and why.json["reason"]


def test_refused_links_and_quarantined_identifiers_are_marked(world: World) -> None:
    client, _ = signed_in(world)
    refused = [
        (pid, n) for pid in list(world.res.store.active_profiles())[:2000]
        if (n := world.res.store.profile_refused_links(pid))
    ]  # fmt: skip
    assert refused, "the world has shared devices and placeholders: some links are refused"
    pid, _links = refused[0]
    picture = get(client, f"/profiles/{pid}/cluster.json").json["elements"]
    marked = [e["data"] for e in picture if e["data"].get("kind") == "refused"]
    assert marked and all(m["reason"] for m in marked)


def test_segment_editor_puts_errors_where_the_mistake_is(world: World) -> None:
    client, _ = signed_in(world)
    form = get(client, "/segments/new")
    token = csrf_of(form.text)
    bad = post(client, "/segments/new", {
        "csrf_token": token, "name": "big spenders", "mode": "rows", "join": "and",
        "row-0-what": "purchase_total", "row-0-op": ">=", "row-0-value": "100",
        "row-1-what": "last_purchase", "row-1-op": "~", "row-1-value": "30 days ago",
    })  # fmt: skip
    assert bad.status_code == 422
    assert 'id="row-1-op" name="row-1-op" aria-invalid="true"' in bad.text
    assert 'id="row-1-op-error"' in bad.text and 'id="row-0-op-error"' not in bad.text
    unnamed = post(client, "/segments/new", {
        "csrf_token": token, "name": "", "mode": "rows", "row-0-what": "has",
        "row-0-value": "email"})  # fmt: skip
    assert unnamed.status_code == 422 and 'id="name-error"' in unnamed.text
    broken = post(client, "/segments/new", {"csrf_token": token, "name": "x", "mode": "json",
                                            "rule_json": '{"has": '})  # fmt: skip
    assert broken.status_code == 422 and 'id="rule-error"' in broken.text
    good = post(client, "/segments/new", {
        "csrf_token": token, "name": "recent big spenders", "mode": "rows", "join": "and",
        "row-0-what": "purchase_total", "row-0-op": ">=", "row-0-value": "100",
        "row-1-what": "has", "row-1-op": "", "row-1-value": "email",
    })  # fmt: skip
    assert good.status_code == 303
    segment_id = good.headers["Location"].rsplit("/", 1)[1]
    stored = world.res.store.segment(segment_id)
    assert stored is not None
    assert stored["rule"] == {"and": [
        {"field": "purchase_total", "op": ">=", "value": 100}, {"has": "email"}]}  # fmt: skip
    page = get(client, f"/segments/{segment_id}")
    assert 'value="purchase_total" selected' in page.text and "data-preview-url" in page.text
    preview = get(client, f"/segments/{segment_id}/preview").text
    assert "member-preview" in preview and "/profiles/prf_" in preview
    count = get(client, f"/segments/{segment_id}/count.json").json["count"]
    assert count > 0
    listing = get(client, "/segments")
    assert "recent big spenders" in listing.text and "Profiles per RFM group" in listing.text


def test_export_started_from_the_console_is_followed_and_downloaded(world: World) -> None:
    client, _ = signed_in(world)
    segment_id = world.res.store.segments()[0]["segment_id"] if world.res.store.segments() else None
    if segment_id is None:
        token = csrf_of(get(client, "/segments/new").text)
        made = post(client, "/segments/new", {
            "csrf_token": token, "name": "with email", "row-0-what": "has",
            "row-0-value": "email"})  # fmt: skip
        segment_id = made.headers["Location"].rsplit("/", 1)[1]
    token = csrf_of(get(client, f"/segments/{segment_id}").text)
    started = post(client, f"/segments/{segment_id}/exports", {"csrf_token": token,
                                                               "format": "csv"})  # fmt: skip
    assert started.status_code == 303
    export_id = started.headers["Location"].rsplit("/", 1)[1]
    assert get(client, f"/exports/{export_id}").status_code == 200
    assert get(client, f"/exports/{export_id}/status.json").json["status"] == "queued"
    config = world.res.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env.update(
        IDGRAPH_DATA_DIR=str(config.data_dir),
        IDGRAPH_GRAPH_URL=str(config.graph_url),
        IDGRAPH_REDIS_URL=str(config.redis_url),
        IDGRAPH_GRAPH_NAME=config.graph_name,
    )
    worker = subprocess.run([IDGRAPH, "worker", "--burst"], env=env, capture_output=True,
                            text=True, timeout=300, check=False)  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    status = get(client, f"/exports/{export_id}/status.json").json
    assert status["status"] == "finished", status
    assert status["download_url"] == f"/exports/{export_id}/file"
    download = get(client, status["download_url"])
    assert download.status_code == 200 and download.data.startswith(b"profile_id")


def test_operations_show_health_quarantine_and_runs(world: World) -> None:
    admin, _ = signed_in(world)
    page = get(admin, "/operations")
    assert page.status_code == 200
    assert "Profiles per size" in page.text and "Largest profiles" in page.text
    assert "quarantine-list" in page.text or "Nothing is quarantined" in page.text
    assert "RFM" in page.text
    agent, _ = signed_in(world, ("read",))
    assert "Quarantine</h2>" not in get(agent, "/operations").text  # admin only


def test_operations_show_the_last_training_and_resolve(world: World) -> None:
    from ml.training import TargetUnreachable

    admin, _ = signed_in(world)
    try:
        metadata = train(world.res)
    except TargetUnreachable as e:  # refused on this small world: the page says why
        page = get(admin, "/operations").text
        assert "failed" in page and str(e)[:40] in page.replace("&#39;", "'")
    else:
        page = get(admin, "/operations").text
        assert f"model <code>{metadata['version']}</code> saved" in page
        assert "The model's metrics" in page
    resolved = world.res.store.meta("last_resolve")
    assert f"{resolved['profiles']} profiles (largest" in page


def test_erasure_from_the_console_needs_the_profile_id_typed_again(world: World) -> None:
    admin, _ = signed_in(world)
    pid = next(iter(world.res.store.active_profiles()))
    token = csrf_of(get(admin, f"/profiles/{pid}").text)
    wrong = post(admin, f"/profiles/{pid}/erase", {"csrf_token": token, "confirm": "prf_nope"})
    assert wrong.status_code == 422
    assert world.res.store.profile(pid) is not None
    done = post(admin, f"/profiles/{pid}/erase", {"csrf_token": token, "confirm": pid})
    assert done.status_code == 200 and "Erased" in done.text
    assert world.res.store.profile(pid) is None


def test_pages_load_nothing_from_another_origin(world: World) -> None:
    client, _ = signed_in(world)
    pid = next(iter(world.res.store.active_profiles()))
    for path in ("/", f"/profiles/{pid}", "/segments", "/segments/new", "/operations"):
        html = get(client, path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#", "data:")), (path, url)
