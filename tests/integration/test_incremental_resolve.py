"""``idgraph resolve`` follows change (graph/resolve/changes.py): nothing to do when
nothing was ingested, only what changed when the basis is the last full resolve's,
and always the result a full rebuild would give."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app.config import Config
from app.linking import resolve_all
from app.profiles import get_profile
from app.resources import Resources
from graph.errors import ConfigError
from graph.ingest.events import Identifier
from graph.ingest.readers import RawRecord, read_records
from ml.synthetic import GeneratedData
from tests.conftest import login_event as event
from tests.conftest import run_cli, store_env


def ingest(res: Resources, *events: dict[str, Any]) -> None:
    report = res.ingester().ingest_records([RawRecord(n, e) for n, e in enumerate(events, 1)])
    assert report.accepted == len(events)


def following(res: Resources) -> Resources:
    """``res`` never made full by the share of the graph changed (these graphs are tiny)."""
    return dataclasses.replace(res, config=res.config.replace(resolve_full_share=1.0))


def assignments(res: Resources) -> dict[Identifier, str]:
    return dict(res.store.assignments())


def test_a_resolve_after_a_small_ingest_re_plans_only_what_changed(resources: Resources) -> None:
    res = following(resources)
    ingest(res, event("e1", email="ann@example.com", cookie_id="c-ann"),
           event("e2", user_id="u-bo", phone="+14155550123"),
           event("e3", email="cy@example.com", loyalty_id="L-cy"))  # fmt: skip
    first = resolve_all(res)
    assert (first.mode, first.profiles) == ("full", 3)
    assert "no resolve recorded" in first.reason

    again = resolve_all(res)
    assert again.mode == "unchanged" and again.facts_refreshed == 0

    # a new event joins two profiles; another is a new customer
    ingest(res, event("e4", email="ann@example.com", user_id="u-bo"),
           event("e5", email="dee@example.com"))  # fmt: skip
    ann = assignments(res)[Identifier("email", "ann@example.com")]
    report = resolve_all(res)
    assert report.mode == "incremental", report.reason
    assert "3 identifiers in batches 2-2, 3 to re-plan" in report.reason  # ann, u-bo, dee
    after = assignments(res)
    assert (
        after[Identifier("phone", "+14155550123")] == after[Identifier("email", "ann@example.com")]
    )
    assert after[Identifier("email", "dee@example.com")] not in {ann}
    # the facts of the profiles that changed, not cy's
    assert report.facts_refreshed == 2
    merged = get_profile(res.store, res.registry, after[Identifier("email", "ann@example.com")])
    assert merged["event_count"] == 3
    # a known identifier seen alone gained no link: its profile's facts change, nothing
    # is re-planned
    ingest(res, event("e6", loyalty_id="L-cy"))
    cy = after[Identifier("loyalty_id", "L-cy")]
    alone = resolve_all(res)
    assert (alone.mode, alone.identifiers, alone.facts_refreshed) == ("incremental", 0, 1)
    assert "1 identifiers in batches 3-3, 0 to re-plan" in alone.reason
    assert get_profile(res.store, res.registry, cy)["event_count"] == 2
    # exactly what a full rebuild gives
    full = resolve_all(res, full=True)
    assert (full.mode, full.reason, full.moved) == ("full", "asked for", 0)
    assert assignments(res) == after


#: what a profile's facts are, as stored (graph/profiles/facts.py)
FACTS = ("event_count", "first_seen", "last_seen", "sources", "events_by_type",
         "purchase_count", "purchase_total", "purchase_avg", "purchase_amounts", "purchase_sum",
         "last_purchase", "currencies", "traits", "trait_keys")  # fmt: skip


def facts(res: Resources) -> dict[str, dict[str, Any]]:
    """Every active profile's stored facts (trait_<name> properties included)."""
    every = {}
    for pid in res.store.active_profiles():
        props = res.store.profile_properties(pid)
        every[pid] = {k: v for k, v in props.items() if k in FACTS or k.startswith("trait_")}
    return every


def resolved_but_the_last(res: Resources, data: GeneratedData) -> list[RawRecord]:
    """The first 95% of ``data``'s events ingested and resolved (a full resolve); the
    rest, returned."""
    records = list(read_records(data.events_path, "jsonl"))
    cut = len(records) * 95 // 100
    res.ingester().ingest_records(records[:cut])
    assert resolve_all(res).mode == "full"
    return records[cut:]


def test_incremental_resolves_equal_a_full_rebuild_on_generated_data(
    resources: Resources, small_data: GeneratedData
) -> None:
    res = following(resources)
    rest = resolved_but_the_last(res, small_data)
    added = 0
    for part in (rest[:60], rest[60:]):
        res.ingester().ingest_records(part)
        report = resolve_all(res)
        assert report.mode == "incremental", report.reason
        assert report.facts_added < report.facts_refreshed  # some profiles' members changed
        added += report.facts_added
    assert added > 0  # profiles that kept their members had their new events added
    incremental, incremental_facts = assignments(res), facts(res)
    rebuilt = resolve_all(res, full=True)  # every profile's facts computed from all events
    assert rebuilt.moved == 0 and rebuilt.merged == 0 and rebuilt.split == 0
    assert assignments(res) == incremental
    assert facts(res) == incremental_facts


def test_real_time_updates_add_to_facts_as_a_full_recompute_counts_them(
    client: Any, resources: Resources, small_data: GeneratedData
) -> None:
    """``POST /v1/events`` adds a profile's new events to its stored facts (found
    through its members) where its members stayed, and recomputes the others: every
    profile's facts as ``resolve --full`` computes them from all events."""
    rest = resolved_but_the_last(resources, small_data)
    added = refreshed = 0
    for start in range(0, len(rest), 25):
        part = [r.raw for r in rest[start : start + 25] if isinstance(r.raw, dict)]
        response = client.post("/v1/events", json={"events": part})
        assert response.status_code == 200
        profiles = response.get_json()["profiles"] or {}
        added += profiles.get("facts_added", 0)
        refreshed += profiles.get("facts_refreshed", 0)
    assert 0 < added < refreshed  # some added to, some recomputed (members changed)
    updated, refused = facts(resources), refused_links(resources)
    resolve_all(resources, full=True)
    assert facts(resources) == updated
    # the updates wrote only the refused links that changed: the same as a rebuild
    # writes all of them again (an unchanged one keeps when it was first refused)
    again = refused_links(resources)
    assert refused and {k: v[:2] for k, v in again.items()} == {
        k: v[:2] for k, v in refused.items()}  # fmt: skip


def refused_links(res: Resources) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Every refused link as stored: (a, b) -> (kind, reason, when)."""
    rows = res.store._read(
        "refused_links_of",
        text="""MATCH (a)-[r:REFUSED]->(b)
        RETURN a.type, a.value, b.type, b.value, r.kind, r.reason, r.at""",
    )
    return {tuple(row[:4]): tuple(row[4:]) for row in rows}


def test_an_update_writes_only_the_refused_links_that_changed(resources: Resources) -> None:
    """A re-plan that refuses what it refused before leaves those links as they were
    (when they were first refused included); one that refuses more adds them."""
    res = following(resources)
    tablet = "6f1c2b9e-4a57-4c1e-9d1a-1f2e3d4c5b6a"
    # a tablet two user_ids logged in on: quarantined, its links refused
    ingest(res, event("e1", user_id="u-1", device_id=tablet),
           event("e2", user_id="u-2", device_id=tablet))  # fmt: skip
    resolve_all(res)
    before = refused_links(res)
    assert len(before) == 2 and {v[:2] for v in before.values()} == {("deterministic",
                                                                        "quarantine")}  # fmt: skip
    ingest(res, event("e3", user_id="u-1", device_id=tablet))
    assert resolve_all(res).mode == "incremental"
    assert refused_links(res) == before  # the same links, the same times
    ingest(res, event("e4", user_id="u-3", device_id=tablet))
    assert resolve_all(res).mode == "incremental"
    after = refused_links(res)
    assert len(after) == 3 and {k: after[k] for k in before} == before


def test_facts_are_added_to_only_while_the_profile_keeps_its_members_and_events(
    resources: Resources,
) -> None:
    res = following(resources)
    ann = event("e1", email="ann@example.com")
    bo = event("e2", user_id="u-bo", phone="+14155550123")
    ingest(res, {**ann, "type": "purchase", "properties": {"amount": 10}},
           bo, event("e3", email="cy@example.com"))  # fmt: skip
    resolve_all(res)
    profile = assignments(res)
    ann_id = profile[Identifier("email", "ann@example.com")]
    cy_id = profile[Identifier("email", "cy@example.com")]
    # ann buys again; bo's profile gains a member; cy loses an event (erased)
    ingest(res, {**event("e4", email="ann@example.com"), "type": "purchase",
                 "properties": {"amount": 5.5}, "traits": {"tier": "gold"}},
           event("e5", user_id="u-bo", cookie_id="c-bo"),
           event("e6", email="cy@example.com"))  # fmt: skip
    res.store.delete_events(["e3"])
    report = resolve_all(res)
    assert report.mode == "incremental", report.reason
    assert (report.facts_refreshed, report.facts_added) == (3, 1)  # ann's added to
    after = facts(res)
    assert after[ann_id]["purchase_count"] == 2 and after[ann_id]["purchase_total"] == 15.5
    assert after[ann_id]["trait_tier"] == "gold"
    assert after[cy_id]["event_count"] == 1  # e3 is gone: recomputed, not added to
    resolve_all(res, full=True)
    assert facts(res) == after


def test_a_full_resolve_a_new_basis_forced_refreshes_only_the_facts_that_changed(
    resources: Resources,
) -> None:
    res = following(resources)
    ingest(res, {**event("e1", email="ann@example.com"), "type": "purchase",
                 "properties": {"amount": 10}},
           event("e2", user_id="u-bo", phone="+14155550123"),
           event("e3", email="cy@example.com"), event("e4", loyalty_id="L-dee"))  # fmt: skip
    first = resolve_all(res)
    assert (first.profiles, first.facts_refreshed, first.facts_added) == (4, 4, 0)
    # ann buys again; bo and cy become one; dee has nothing new
    ingest(res, {**event("e5", email="ann@example.com"), "type": "purchase",
                 "properties": {"amount": 2.5}},
           event("e6", user_id="u-bo", email="cy@example.com"))  # fmt: skip
    # another basis (merge protection changed): every identifier is re-planned, but
    # only ann's (her new event added) and bo's and cy's (members changed) facts
    # are refreshed
    stricter = dataclasses.replace(res, config=res.config.replace(profile_limits="email=2"))
    report = resolve_all(stricter)
    assert report.mode == "full" and "settings" in report.reason
    assert (report.identifiers, report.facts_refreshed, report.facts_added) == (5, 2, 1)
    followed = facts(res)
    ann = assignments(res)[Identifier("email", "ann@example.com")]
    assert followed[ann]["purchase_count"] == 2 and followed[ann]["purchase_total"] == 12.5
    # asked for, a full resolve computes every profile's facts from all its events
    asked = resolve_all(stricter, full=True)
    assert (asked.facts_refreshed, asked.facts_added) == (3, 0)
    assert facts(res) == followed
    # what counts as a purchase changed: every profile's facts again
    buys = dataclasses.replace(res, config=res.config.replace(purchase_types=("purchase", "x")))
    ingest(res, event("e7", loyalty_id="L-dee"))
    again = resolve_all(buys)
    assert again.mode == "full" and (again.facts_refreshed, again.facts_added) == (3, 0)


def test_a_full_resolve_that_follows_change_equals_a_rebuild_on_generated_data(
    resources: Resources, small_data: GeneratedData
) -> None:
    res = following(resources)
    res.ingester().ingest_records(resolved_but_the_last(res, small_data))
    # a quarantine override (another basis) moves some members; the new events move others
    shared = max(res.store.quarantine_list(), key=lambda row: row["degree"])
    assert res.store.set_quarantine_override(Identifier(shared["type"], shared["value"]),
                                             "release")  # fmt: skip
    report = resolve_all(res)
    assert report.mode == "full" and "overrides" in report.reason
    assert 0 < report.facts_added < report.facts_refreshed < report.profiles
    followed, placed = facts(res), assignments(res)
    rebuilt = resolve_all(res, full=True)
    assert rebuilt.facts_refreshed == rebuilt.profiles and rebuilt.moved == 0
    assert assignments(res) == placed
    assert facts(res) == followed


def test_a_changed_basis_or_too_much_change_makes_the_resolve_full(resources: Resources) -> None:
    res = following(resources)
    ingest(res, event("e1", email="ann@example.com", cookie_id="c-ann"))
    resolve_all(res)
    # merge protection settings changed: a full rebuild
    stricter = dataclasses.replace(res, config=res.config.replace(profile_limits="email=1"))
    ingest(res, event("e2", email="ann2@example.com", cookie_id="c-ann"))
    report = resolve_all(stricter)
    assert report.mode == "full" and "settings" in report.reason
    assert resolve_all(stricter).mode == "unchanged"
    # a quarantine override changed
    assert res.store.set_quarantine_override(Identifier("cookie_id", "c-ann"), "release")
    assert resolve_all(stricter).mode == "full"
    # more than the configured share of the graph changed since the last full resolve
    ingest(res, event("e3", email="new@example.com"))
    everything = dataclasses.replace(stricter, config=stricter.config.replace(resolve_full_share=0))
    report = resolve_all(everything)
    assert report.mode == "full" and "re-scores all" in report.reason


def test_the_resolve_command_says_what_it_did(config: Config, resources: Resources) -> None:
    env = store_env(config, IDGRAPH_RESOLVE_FULL_SHARE="1")

    def resolve(*args: str) -> str:
        done = run_cli("resolve", *args, data_dir=config.data_dir, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ingest(resources, event("e1", email="ann@example.com"))
    assert resolve().startswith("full resolve: no resolve recorded")
    assert resolve().startswith("nothing to resolve: no ingest since batch")
    ingest(resources, event("e2", email="ann@example.com", user_id="u-ann"))
    third = resolve()
    assert third.startswith("incremental resolve: 2 identifiers in batches")
    assert "link model" not in third  # no model: nothing to say about it
    assert resolve("--full").startswith("full resolve: asked for")


@pytest.mark.parametrize("share", ["-0.1", "1.5"])
def test_the_full_share_is_checked(config: Config, share: str) -> None:
    with pytest.raises(ConfigError, match="resolve_full_share"):
        config.replace(resolve_full_share=share)


def test_a_posted_event_of_one_known_identifier_refreshes_facts_without_re_planning(
    client: Any, resources: Resources
) -> None:
    def post(*events: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/v1/events", json={"events": list(events)})
        assert response.status_code == 200
        body: dict[str, Any] = response.get_json()
        return body

    joined = post(event("e1", email="ann@example.com", cookie_id="c-ann"))["profiles"]
    assert joined["identifiers"] == 2 and joined["profiles"] == 1
    # the cookie again, alone (its IP is weak): nothing to re-plan, its facts move on
    again = post({**event("e2", cookie_id="c-ann", ip="203.0.113.9"), "type": "page"})
    assert again["profiles"]["identifiers"] == 0 and again["profiles"]["facts_refreshed"] == 1
    found = client.get("/v1/identifiers/email/ann@example.com/profile").get_json()["profile"]
    assert found["event_count"] == 2
    # a new identifier alone is planned: it becomes a profile
    new = post(event("e3", cookie_id="c-new"))["profiles"]
    assert new["identifiers"] == 1 and new["profiles"] == 1
    assert client.get("/v1/identifiers/cookie_id/c-new/profile").status_code == 200
    # the same as a full rebuild
    before = assignments(resources)
    rebuilt = resolve_all(resources, full=True)
    assert rebuilt.moved == 0 and assignments(resources) == before


def test_a_profile_that_loses_members_has_its_size_counted_again(resources: Resources) -> None:
    """Sizes follow the plan: a profile split by a quarantine counts the members it
    kept (its size was counted only where identifiers moved to, so it kept the old)."""
    res = following(resources)
    tablet = "6f1c2b9e-4a57-4c1e-9d1a-1f2e3d4c5b6a"
    ingest(res, event("e1", user_id="u-1", email="a@example.com"),
           event("e2", user_id="u-1", device_id=tablet))  # fmt: skip
    resolve_all(res)
    (pid,) = set(assignments(res).values())
    assert res.store.profile_properties(pid)["size"] == 3
    # a second user_id on the tablet: quarantined, it leaves the profile (for one of
    # its own)
    ingest(res, event("e3", user_id="u-2", device_id=tablet))
    assert resolve_all(res).mode == "incremental"
    held = assignments(res)
    assert held[Identifier("user_id", "u-1")] == pid != held[Identifier("device_id", tablet)]
    assert res.store.profile_properties(pid)["size"] == 2
    sizes = {p: res.store.profile_properties(p)["size"] for p in set(held.values())}
    assert sizes == {p: list(held.values()).count(p) for p in sizes}
