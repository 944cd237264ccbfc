"""Facts, RFM, segments and audience exports on generated data, checked against an
independent computation from the events file (plain Python, no Cypher), with exports
run by real ``idgraph worker`` processes over the real embedded Redis."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import signal
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

from app.audiences import export_path
from app.config import Config
from app.jobs import EXPORT_TIMEOUT, QUEUE_NAME, enqueue_export, fetch_job
from app.resources import Resources, connect
from app.rfm import run_rfm
from graph.ingest.events import Identifier, parse_event
from graph.ingest.readers import read_records
from graph.profiles.rfm import DAY_MS, GROUP_GRID
from graph.resolve.resolution import resolve
from graph.store.address import ServerAddress
from ml.synthetic import GeneratedData
from tests.conftest import IDGRAPH, with_key

ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Customer:
    """One profile's facts, computed here from the events file."""

    members: set[Identifier] = field(default_factory=set)
    events: dict[str, Any] = field(default_factory=dict)  # event_id -> Event

    def purchases(self, until: int | None = None) -> list[Any]:
        return [
            e
            for e in self.events.values()
            if e.type == "purchase" and (until is None or e.ts <= until)
        ]

    def traits(self) -> dict[str, Any]:
        latest: dict[str, Any] = {}
        for e in sorted(self.events.values(), key=lambda e: (e.ts, e.traits_json or "")):
            latest.update({k: v for k, v in e.traits.items() if v is not None})
        return latest


@dataclass
class World:
    res: Resources
    config: Config
    as_of: int
    customers: dict[str, Customer]
    quarantined: set[Identifier]
    rfm: dict[str, str]  # profile_id -> group, computed here

    def usable(self, pid: str, type_name: str) -> list[str]:
        return sorted(
            i.value
            for i in self.customers[pid].members
            if i.type == type_name and i not in self.quarantined
        )


def _iso(ms: int) -> str:
    return time.strftime(ISO, time.gmtime(ms / 1000))


def _independent_rfm(customers: dict[str, Customer], as_of: int) -> dict[str, str]:
    buyers = {pid: c.purchases(as_of) for pid, c in customers.items() if c.purchases(as_of)}
    days = {pid: (as_of - max(e.ts for e in p)) // DAY_MS for pid, p in buyers.items()}
    freq = {pid: len(p) for pid, p in buyers.items()}
    money = {pid: sum(e.amount or 0.0 for e in p) for pid, p in buyers.items()}
    n = len(buyers)

    def score(values: dict[str, float], pid: str) -> int:
        below = sum(1 for v in values.values() if v < values[pid])
        return math.ceil(5 * (below + 1) / n)

    recency = {pid: -d for pid, d in days.items()}
    groups = {}
    for pid in buyers:
        r, f, m = score(recency, pid), score(freq, pid), score(money, pid)
        groups[pid] = GROUP_GRID[r - 1][math.floor((f + m) / 2 + 0.5) - 1]
    return groups


@pytest.fixture(scope="module")
def world(
    server: ServerAddress, small_data: GeneratedData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    url = (
        f"unix://{server.unix_socket}" if server.unix_socket else f"redis://127.0.0.1:{server.port}"
    )
    config = Config.load(
        env={},
        overrides={
            "data_dir": tmp_path_factory.mktemp("segments") / "data",
            "graph_url": url,
            "redis_url": url,
            "graph_name": "test_segments_" + uuid.uuid4().hex[:8],
        },
    )
    res = connect(config)
    res.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    report = resolve(res.store, res.registry, res.resolve_settings())
    assert report.facts_refreshed == report.profiles  # one fact row per profile

    events: dict[str, Any] = {}
    for line in small_data.events_path.read_text().splitlines():
        try:
            raw = json.loads(line)
        except ValueError:
            continue
        event = parse_event(raw, res.registry).event
        if event is not None and event.event_id not in events:
            events[event.event_id] = event
    assignments = res.store.assignments()
    customers: dict[str, Customer] = defaultdict(Customer)
    for identifier, pid in assignments.items():
        customers[pid].members.add(identifier)
    for event in events.values():
        for pid in {assignments[i] for i in event.identifiers if i in assignments}:
            customers[pid].events[event.event_id] = event
    as_of = max(e.ts for e in events.values())
    run_rfm(res, as_of=as_of)
    quarantined = {
        Identifier(q["type"], q["value"])
        for q in res.store.quarantine_list(limit=100_000)
        if q["quarantined"]
    }
    yield World(
        res, config, as_of, dict(customers), quarantined, _independent_rfm(customers, as_of)
    )
    res.store.drop()
    res.close()


@pytest.fixture
def api(world: World):  # type: ignore[no-untyped-def]
    from app.api import create_app

    return with_key(
        create_app(world.config, resources=world.res, test_config={"TESTING": True}).test_client(),
        world.res,
    )


def _segments(world: World) -> list[tuple[dict[str, Any], Callable[[str, Customer], bool]]]:
    """(rule, the same rule in plain Python) pairs."""
    t = world.as_of
    cities = Counter(c.traits().get("city") for c in world.customers.values())
    city = next(c for c, _ in cities.most_common() if c)

    def last_purchase(c: Customer) -> int | None:
        return max((e.ts for e in c.purchases()), default=None)

    def pos_purchases_since(c: Customer, since: int) -> int:
        return sum(1 for e in c.purchases() if e.source == "pos" and e.ts >= since)

    return [
        (  # bought in the last 30 days but not in the last 7
            {
                "and": [
                    {"field": "last_purchase", "op": ">=", "value": _iso(t - 30 * DAY_MS)},
                    {"not": {"field": "last_purchase", "op": ">=", "value": _iso(t - 7 * DAY_MS)}},
                ]
            },
            lambda pid, c: (
                (lp := last_purchase(c)) is not None and t - 30 * DAY_MS <= lp < t - 7 * DAY_MS
            ),
        ),
        (
            {"field": "rfm.group", "op": "in", "value": ["Champions", "Loyal"]},
            lambda pid, c: world.rfm.get(pid) in ("Champions", "Loyal"),
        ),
        (
            {"and": [{"has": "email"}, {"has": "loyalty_id"}]},
            lambda pid, c: bool(world.usable(pid, "email") and world.usable(pid, "loyalty_id")),
        ),
        (
            {
                "events": {"type": "purchase", "source": "pos", "since": _iso(t - 60 * DAY_MS)},
                "op": ">=",
                "value": 2,
            },
            lambda pid, c: pos_purchases_since(c, t - 60 * DAY_MS) >= 2,
        ),
        (
            {"trait": "city", "op": "=", "value": city},
            lambda pid, c: c.traits().get("city") == city,
        ),
        (
            {
                "or": [
                    {"field": "purchase_total", "op": ">", "value": 200},
                    {"not": {"source": "web"}},
                ]
            },
            lambda pid, c: (
                sum(e.amount or 0 for e in c.purchases()) > 200
                or "web" not in {e.source for e in c.events.values()}
            ),
        ),
        (
            {"and": [{"field": "rfm.recency", "op": ">=", "value": 4}, {"has": "phone"}]},
            lambda pid, c: (
                pid in world.rfm
                and _recency_score(world, pid) >= 4
                and bool(world.usable(pid, "phone"))
            ),
        ),
    ]


def _recency_score(world: World, pid: str) -> int:
    last = {
        p: (world.as_of - max(e.ts for e in c.purchases(world.as_of))) // DAY_MS
        for p, c in world.customers.items()
        if c.purchases(world.as_of)
    }
    below = sum(1 for d in last.values() if -d < -last[pid])
    return math.ceil(5 * (below + 1) / len(last))


def _all_members(api: Any, segment_id: str, limit: int) -> list[str]:
    ids: list[str] = []
    after = ""
    while True:
        page = api.get(f"/v1/segments/{segment_id}/members?limit={limit}&after={after}")
        assert page.status_code == 200, page.json
        ids += [m["profile_id"] for m in page.json["members"]]
        assert len(page.json["members"]) <= limit
        if page.json["next"] is None:
            return ids
        after = page.json["next"]


def test_rfm_groups_match_an_independent_computation(world: World, api: Any) -> None:
    summary = api.get("/v1/rfm").json
    assert summary["purchasers"] == len(world.rfm) > 50
    assert summary["groups"] == {
        g: n
        for g, n in {**{g: 0 for g in summary["groups"]}, **Counter(world.rfm.values())}.items()
    }
    for pid, group in list(world.rfm.items())[:25]:
        profile = api.get(f"/v1/profiles/{pid}").json
        assert profile["rfm"]["group"] == group


def test_profile_facts_match_the_events(world: World, api: Any) -> None:
    buyers = [pid for pid, c in world.customers.items() if c.purchases()][:20]
    for pid in buyers:
        c = world.customers[pid]
        facts = api.get(f"/v1/profiles/{pid}").json["facts"]
        assert facts["purchase_count"] == len(c.purchases())
        assert facts["purchase_total"] == pytest.approx(sum(e.amount or 0 for e in c.purchases()))
        assert facts["last_purchase"] == _iso(max(e.ts for e in c.purchases()))
        assert {k: v["value"] for k, v in facts["traits"].items()} == c.traits()


def test_segment_members_match_an_independent_computation(world: World, api: Any) -> None:
    for rule, expected_rule in _segments(world):
        created = api.post("/v1/segments", json={"name": json.dumps(rule)[:50], "rule": rule})
        assert created.status_code == 201, created.json
        segment_id = created.json["segment_id"]
        expected = sorted(pid for pid, c in world.customers.items() if expected_rule(pid, c))
        assert expected, f"the generated data has no member for {rule}"
        members = _all_members(api, segment_id, limit=37)
        assert members == expected, rule  # stable profile_id order, no repeats, nothing missed
        count = api.get(f"/v1/segments/{segment_id}/count").json["count"]
        assert count == len(expected)


def test_a_profile_lists_the_segments_it_is_in(world: World, api: Any) -> None:
    rules = _segments(world)
    ids = [
        api.post("/v1/segments", json={"name": f"s{n}", "rule": rule}).json["segment_id"]
        for n, (rule, _) in enumerate(rules)
    ]
    for pid in sorted(world.customers)[:40]:
        c = world.customers[pid]
        listed = {s["segment_id"] for s in api.get(f"/v1/profiles/{pid}").json["segments"]}
        assert listed >= {sid for sid, (_, f) in zip(ids, rules, strict=True) if f(pid, c)}
        mine = {sid for sid, (_, f) in zip(ids, rules, strict=True) if f(pid, c)}
        assert listed & set(ids) == mine


def test_segment_crud_and_validation(api: Any) -> None:
    bad = api.post("/v1/segments", json={"name": "x", "rule": {"and": [{"field": "age"}]}})
    assert bad.status_code == 422
    assert "rule.and[0].field" in bad.json["errors"]
    assert api.post("/v1/segments", json={"rule": {"has": "email"}}).status_code == 422
    made = api.post("/v1/segments", json={"name": "emails", "rule": {"has": "email"}}).json
    sid = made["segment_id"]
    assert made["summary"] == "has email"
    changed = api.put(f"/v1/segments/{sid}", json={"name": "phones", "rule": {"has": "phone"}})
    assert changed.status_code == 200 and changed.json["name"] == "phones"
    assert changed.json["created_at"] == made["created_at"]
    assert sid in {s["segment_id"] for s in api.get("/v1/segments").json["segments"]}
    assert api.delete(f"/v1/segments/{sid}").status_code == 204
    for response in (
        api.get(f"/v1/segments/{sid}"),
        api.get(f"/v1/segments/{sid}/members"),
        api.delete(f"/v1/segments/{sid}"),
        api.post("/v1/exports", json={"segment_id": sid, "format": "csv"}),
    ):
        assert response.status_code == 404
    wrong = api.post("/v1/exports", json={"segment_id": sid, "format": "xlsx"})
    assert wrong.status_code == 422 and "format" in wrong.json["errors"]["json"]


# -- exports through real workers --------------------------------------------------
def _worker_env(world: World) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")}
    env.update(
        IDGRAPH_DATA_DIR=str(world.config.data_dir),
        IDGRAPH_GRAPH_URL=str(world.config.graph_url),
        IDGRAPH_REDIS_URL=str(world.config.redis_url),
        IDGRAPH_GRAPH_NAME=world.config.graph_name,
    )
    return env


def _idgraph(world: World, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real ``idgraph`` command, configured for the module's graph."""
    return subprocess.run(
        [IDGRAPH, *args],
        env=_worker_env(world),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _burst_worker(world: World) -> None:
    done = _idgraph(world, "worker", "--burst")
    assert done.returncode == 0, done.stderr


def _blocking_partial(world: World, export_id: str) -> tuple[Path, Path, int]:
    """(final file, partial file, read end): the export's ``.partial`` file made a FIFO
    nobody reads, so the writer blocks once the pipe is full (deterministically
    mid-export). Close the read end when done."""
    final = export_path(world.res, export_id, "jsonl")
    partial = final.with_name(final.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(partial)
    return final, partial, os.open(partial, os.O_RDONLY | os.O_NONBLOCK)


def _expected_hashed(world: World, members: list[str], meta: bool) -> list[list[str]]:
    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    rows = []
    for pid in members:
        emails = [sha(e.strip().lower()) for e in world.usable(pid, "email")][:3]
        phones = [sha(p.lstrip("+") if meta else p) for p in world.usable(pid, "phone")][:3]
        if emails or phones:
            rows.append(emails + [""] * (3 - len(emails)) + phones + [""] * (3 - len(phones)))
    return rows


def test_hashed_exports_through_a_real_worker(world: World, api: Any) -> None:
    Queue(QUEUE_NAME, connection=world.res.redis).empty()
    rule = {"or": [{"has": "email"}, {"has": "phone"}, {"source": "pos"}]}
    sid = api.post("/v1/segments", json={"name": "contactable", "rule": rule}).json["segment_id"]
    members = _all_members(api, sid, limit=1000)
    exports = {}
    for fmt in ("google_customer_match", "meta_custom_audience", "csv", "jsonl"):
        body = {"segment_id": sid, "format": fmt, "traits": ["city"]}
        accepted = api.post("/v1/exports", json=body)
        assert accepted.status_code == 202 and accepted.json["status"] == "queued"
        assert accepted.json["download_url"] is None
        exports[fmt] = accepted.json["export_id"]
    _burst_worker(world)

    files = {}
    for fmt, export_id in exports.items():
        status = api.get(f"/v1/exports/{export_id}").json
        assert status["status"] == "finished", status
        assert status["progress"]["members"] == status["progress"]["total"] == len(members)
        download = api.get(status["download_url"])
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == status["result"]["sha256"]
        files[fmt] = download.data.decode()
    google = list(csv.reader(io.StringIO(files["google_customer_match"])))
    assert google[0] == ["Email"] * 3 + ["Phone"] * 3
    assert google[1:] == _expected_hashed(world, members, meta=False)
    meta = list(csv.reader(io.StringIO(files["meta_custom_audience"])))
    assert meta[0] == ["email"] * 3 + ["phone"] * 3
    assert meta[1:] == _expected_hashed(world, members, meta=True)
    skipped = len(members) - len(google) + 1
    assert skipped > 0  # pos-only members have no contact value: left out, and counted
    assert (
        api.get(f"/v1/exports/{exports['google_customer_match']}").json["result"]["skipped"]
        == skipped
    )
    plain = list(csv.DictReader(io.StringIO(files["csv"])))
    assert [r["profile_id"] for r in plain] == members
    assert all(r["email"] == (world.usable(r["profile_id"], "email") or [""])[0] for r in plain)
    lines = [json.loads(line) for line in files["jsonl"].splitlines()]
    assert [line["profile_id"] for line in lines] == members
    listed = {e["export_id"] for e in api.get("/v1/exports").json["exports"]}
    assert listed >= set(exports.values())


def test_a_failed_export_says_why_and_is_not_retried(world: World, api: Any) -> None:
    Queue(QUEUE_NAME, connection=world.res.redis).empty()
    sid = api.post("/v1/segments", json={"name": "gone", "rule": {"has": "email"}}).json[
        "segment_id"
    ]
    export_id = api.post("/v1/exports", json={"segment_id": sid, "format": "csv"}).json["export_id"]
    api.delete(f"/v1/segments/{sid}")  # deleted before a worker picks the export up
    _burst_worker(world)
    status = api.get(f"/v1/exports/{export_id}").json
    assert status["status"] == "failed"
    assert "no segment" in status["error"]
    assert status["retries_left"] == 0 and status["download_url"] is None
    assert api.get(f"/v1/exports/{export_id}/file").status_code == 404
    listing = _idgraph(world, "jobs", "--json", timeout=60)
    assert listing.returncode == 0, listing.stderr
    job = next(j for j in json.loads(listing.stdout) if j["id"] == export_id)
    assert job["status"] == "failed" and "no segment" in job["error"]


def test_a_worker_killed_mid_export_never_leaves_a_file_presented_as_done(
    world: World, api: Any
) -> None:
    Queue(QUEUE_NAME, connection=world.res.redis).empty()
    sid = api.post(
        "/v1/segments", json={"name": "everyone", "rule": {"field": "size", "op": ">=", "value": 1}}
    ).json["segment_id"]
    members = _all_members(api, sid, limit=1000)
    export_id = enqueue_export(world.res.redis, world.config.graph_name, sid, "jsonl", page_size=1)
    final, partial, reader = _blocking_partial(world, export_id)  # killed mid-write
    worker = subprocess.Popen(
        [IDGRAPH, "worker"],
        env=_worker_env(world),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            job = fetch_job(world.res.redis, export_id)
            assert job is not None
            if (job.meta.get("progress") or {}).get("members", 0) > 0:
                break
            assert time.monotonic() < deadline, "the export never started"
            time.sleep(0.05)
        time.sleep(0.5)
        # the work horse runs in a process group of its own (rq calls setpgrp): kill it
        # first, then the worker, as a machine losing power would
        horses = _children(worker.pid)
        assert horses, "the worker has no work horse running the export"
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        os.close(reader)
    os.unlink(partial)

    status = api.get(f"/v1/exports/{export_id}").json
    assert status["status"] == "started" and status["download_url"] is None
    assert not final.exists()
    assert api.get(f"/v1/exports/{export_id}/file").status_code == 404
    # rq notices the abandoned job when its time runs out; look from after that moment
    registry = StartedJobRegistry(queue=Queue(QUEUE_NAME, connection=world.res.redis))
    registry.cleanup(timestamp=time.time() + EXPORT_TIMEOUT + 3600)
    status = api.get(f"/v1/exports/{export_id}").json
    assert status["status"] == "scheduled" and status["retries_left"] == 2
    assert status["download_url"] is None
    # the dead worker's scheduler lock would expire within ~70 s; release it now
    world.res.redis.delete(RQScheduler.get_locking_key(QUEUE_NAME))
    time.sleep(11)  # the first retry is due after 10 s
    _burst_worker(world)
    status = api.get(f"/v1/exports/{export_id}").json
    assert status["status"] == "finished", status
    lines = api.get(status["download_url"]).data.decode().splitlines()
    assert [json.loads(line)["profile_id"] for line in lines] == members
    assert not partial.exists()
    assert sorted(p.name for p in final.parent.iterdir() if export_id in p.name) == [final.name]


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def test_cli_exports_and_rfm(world: World, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _idgraph(world, *args, timeout=120)

    made = cli(
        "segments",
        "create",
        "--name",
        "champions",
        "--rule",
        '{"field": "rfm.group", "op": "=", "value": "Champions"}',
    )
    assert made.returncode == 0, made.stderr
    sid = json.loads(made.stdout)["segment_id"]
    out = tmp_path / "champions.csv"
    exported = cli("export", "audience", sid, "--format", "google_customer_match", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    champions = sorted(pid for pid, g in world.rfm.items() if g == "Champions")
    assert out.read_text().splitlines()[1:] == [
        ",".join(row) for row in _expected_hashed(world, champions, meta=False)
    ]
    bad = cli("segments", "create", "--name", "x", "--rule", '{"field": "rfm.group", "op": ">"}')
    assert bad.returncode == 1 and "rule.op" in bad.stderr
    rescored = cli("rfm", "--as-of", _iso(world.as_of)[:19])
    assert rescored.returncode == 0 and "purchasers scored" in rescored.stdout, rescored.stderr
    assert cli("segments", "show", "seg_nope").returncode == 3


def test_exports_answer_503_when_the_job_queue_is_down(world: World) -> None:
    import dataclasses
    import socket

    import redis

    from app.api import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    down = dataclasses.replace(world.res, redis=redis.Redis(port=port, socket_connect_timeout=1))
    client = with_key(create_app(world.config, resources=down, test_config={"TESTING": True})
                      .test_client(), world.res)  # fmt: skip
    sid = client.post("/v1/segments", json={"name": "q", "rule": {"has": "email"}}).json[
        "segment_id"
    ]
    for response in (
        client.post("/v1/exports", json={"segment_id": sid, "format": "csv"}),
        client.get("/v1/exports/exp_x"),
        client.post("/v1/rfm", json={}),
    ):
        assert response.status_code == 503, response.json
        assert "unreachable" in response.json["message"]


def test_posted_events_update_facts_and_segments_at_once(client: Any) -> None:
    def purchase(event_id: str, ts: str, amount: float, **ids: str) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "timestamp": ts,
            "source": "pos",
            "type": "purchase",
            "identifiers": ids,
            "properties": {"amount": amount, "currency": "USD"},
            "traits": {"city": "Austin"},
        }

    sid = client.post(
        "/v1/segments",
        json={"name": "big", "rule": {"field": "purchase_total", "op": ">=", "value": 100}},
    ).json["segment_id"]
    client.post(
        "/v1/events",
        json={
            "events": [
                purchase("p1", "2026-05-01T10:00:00Z", 60.0, email="ann@x.com"),
                purchase("p2", "2026-05-02T10:00:00Z", 50.0, loyalty_id="L-77"),
            ]
        },
    )
    ann = client.get("/v1/identifiers/email/ann@x.com/profile").json["profile"]
    assert ann["facts"]["purchase_count"] == 1 and ann["segments"] == []
    assert client.get(f"/v1/segments/{sid}/count").json["count"] == 0
    # one login ties the e-mail to the loyalty card: one profile with both purchases
    client.post(
        "/v1/events",
        json={
            "events": [
                {
                    "event_id": "l1",
                    "timestamp": "2026-05-03T10:00:00Z",
                    "source": "web",
                    "type": "login",
                    "identifiers": {"email": "ann@x.com", "loyalty_id": "L-77"},
                    "traits": {"city": "Boston"},
                }
            ]
        },
    )
    merged = client.get("/v1/identifiers/loyalty_id/L-77/profile").json["profile"]
    facts = merged["facts"]
    assert (facts["purchase_count"], facts["purchase_total"]) == (2, 110.0)
    assert facts["last_purchase"] == "2026-05-02T10:00:00Z"
    assert facts["events_by_type"] == {"login": 1, "purchase": 2}
    assert facts["traits"]["city"] == {"value": "Boston", "observed_at": "2026-05-03T10:00:00Z"}
    assert merged["segments"] == [{"segment_id": sid, "name": "big"}]
    page = client.get(f"/v1/segments/{sid}/members").json
    assert [m["profile_id"] for m in page["members"]] == [merged["profile_id"]]
    assert page["next"] is None


def test_an_export_out_of_time_fails_with_the_reason_and_no_file(world: World, api: Any) -> None:
    Queue(QUEUE_NAME, connection=world.res.redis).empty()
    sid = api.post(
        "/v1/segments", json={"name": "all", "rule": {"field": "size", "op": ">=", "value": 1}}
    ).json["segment_id"]
    export_id = enqueue_export(
        world.res.redis, world.config.graph_name, sid, "jsonl", page_size=1, timeout=3
    )
    # the writer blocks until the time limit stops it
    final, partial, reader = _blocking_partial(world, export_id)
    try:
        _burst_worker(world)
    finally:
        os.close(reader)
    status = api.get(f"/v1/exports/{export_id}").json
    assert status["status"] == "failed", status
    assert "JobTimeoutException" in status["error"]
    assert status["retries_left"] == 0 and status["download_url"] is None
    assert not final.exists() and not partial.exists()
    failed = FailedJobRegistry(queue=Queue(QUEUE_NAME, connection=world.res.redis))
    assert export_id in failed.get_job_ids()
