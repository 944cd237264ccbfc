"""Deterministic resolution and the profile export against the real store."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from app.exports import write_profiles
from app.resources import Resources
from graph.errors import InputError
from graph.ingest.events import parse_event
from graph.ingest.identifiers import Registry
from graph.ingest.readers import read_records
from graph.resolve.resolution import ResolveSettings, resolve
from ml.synthetic import GeneratedData


def independent_components(path: Path, registry: Registry) -> set[frozenset[tuple[str, str]]]:
    """Connected components of strong-identifier co-occurrence, straight from the file.

    Shares only parsing/normalization with idgraph (unit-tested on their own);
    no store, no idgraph clustering: networkx on the raw events.
    """
    graph = nx.Graph()
    strong = set(registry.strong_types)
    for record in read_records(path, "jsonl"):
        if record.raw is None:
            continue
        event = parse_event(record.raw, registry).event
        if event is None:
            continue
        ids = [(i.type, i.value) for i in event.identifiers if i.type in strong]
        graph.add_nodes_from(ids)
        graph.add_edges_from(itertools.pairwise(ids))
    return {frozenset(c) for c in nx.connected_components(graph)}


def read_export(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


UNPROTECTED = ResolveSettings(limits={}, quarantine_thresholds={}, quarantine_shared=False)


def test_export_equals_connected_components(
    resources: Resources, small_data: GeneratedData, tmp_path: Path
) -> None:
    """Without merge limits and quarantine, profiles are exactly the connected components."""
    resources.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    report = resolve(resources.store, resources.registry, UNPROTECTED)
    output = tmp_path / "profiles.jsonl"
    count = write_profiles(resources.store, resources.registry, output, page_size=97)
    lines = read_export(output)
    assert count == len(lines) == report.profiles
    exported = [frozenset((i["type"], i["value"]) for i in line["identifiers"]) for line in lines]  # type: ignore[union-attr]
    members = [m for group in exported for m in group]
    assert len(members) == len(set(members)), "an identifier appears in more than one line"
    assert not any(t == "ip" for t, _ in members), "weak identifiers are not profile members"
    assert set(exported) == independent_components(small_data.events_path, resources.registry)
    assert len({line["profile_id"] for line in lines}) == len(lines)
    assert not output.with_name(output.name + ".partial").exists()


def test_profile_ids_are_stable_across_resolves(
    resources: Resources, small_data: GeneratedData
) -> None:
    resources.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    resolve(resources.store, resources.registry)
    first = resources.store.assignments()
    second_report = resolve(resources.store, resources.registry)
    assert resources.store.assignments() == first
    assert second_report.moved == 0


def test_merge_keeps_the_larger_profiles_id(resources: Resources) -> None:
    ingest = resources.ingester().ingest_objects
    ts = "2026-01-01T00:00:00Z"
    ingest(
        [
            {
                "event_id": "a1",
                "timestamp": ts,
                "source": "web",
                "type": "login",
                "identifiers": {"email": "a@x.com", "user_id": "u1", "cookie_id": "c1"},
            },
            {
                "event_id": "b1",
                "timestamp": ts,
                "source": "pos",
                "type": "purchase",
                "identifiers": {"loyalty_id": "L1"},
            },
        ]
    )
    resolve(resources.store, resources.registry)
    before = resources.store.assignments()
    big, small = before[("email", "a@x.com")], before[("loyalty_id", "L1")]  # type: ignore[index]
    assert big != small
    ingest(
        [
            {
                "event_id": "m1",
                "timestamp": ts,
                "source": "pos",
                "type": "purchase",
                "identifiers": {"loyalty_id": "L1", "email": "A@X.com"},
            }
        ]
    )
    report = resolve(resources.store, resources.registry)
    after = resources.store.assignments()
    assert set(after.values()) == {big}
    assert report.merged == 1 and report.profiles_deleted == 0  # retired, not deleted
    assert resources.store.profile(small) is None


def test_ip_never_links(resources: Resources) -> None:
    ts = "2026-01-01T00:00:00Z"
    resources.ingester().ingest_objects(
        [
            {
                "event_id": "1",
                "timestamp": ts,
                "source": "web",
                "type": "v",
                "identifiers": {"cookie_id": "c1", "ip": "8.8.8.8"},
            },
            {
                "event_id": "2",
                "timestamp": ts,
                "source": "web",
                "type": "v",
                "identifiers": {"cookie_id": "c2", "ip": "8.8.8.8"},
            },
        ]
    )
    report = resolve(resources.store, resources.registry)
    assert report.profiles == 2 and report.links == 0


def test_export_refuses_while_identifiers_wait_for_resolve(
    resources: Resources, tmp_path: Path
) -> None:
    resources.ingester().ingest_objects(
        [
            {
                "event_id": "1",
                "timestamp": "2026-01-01T00:00:00Z",
                "source": "web",
                "type": "v",
                "identifiers": {"email": "a@x.com"},
            },
        ]
    )
    with pytest.raises(InputError, match="1 strong identifiers"):
        write_profiles(resources.store, resources.registry, tmp_path / "p.jsonl")
    assert not (tmp_path / "p.jsonl").exists()
    resolve(resources.store, resources.registry)
    assert write_profiles(resources.store, resources.registry, tmp_path / "p.jsonl") == 1


def test_export_pages_past_retired_profiles(resources: Resources, tmp_path: Path) -> None:
    """Profiles retired by merges have no members; a page holding them is still a full
    page, so the export goes on to the next (it once stopped at the first such page and
    wrote 1,979 of 30,261 profiles)."""

    def event(n: int, **identifiers: str) -> dict[str, Any]:
        return {"event_id": f"e{n}", "timestamp": "2026-01-01T00:00:00Z", "source": "web",
                "type": "v", "identifiers": identifiers}  # fmt: skip

    resources.ingester().ingest_objects([event(n, email=f"p{n}@x.com") for n in range(12)])
    resolve(resources.store, resources.registry)
    # six merges: every second profile is retired into its neighbour
    resources.ingester().ingest_objects(
        [event(100 + n, email=f"p{n}@x.com", phone=f"+1415555{n:04d}") for n in range(12)]
        + [event(200 + n, phone=f"+1415555{n:04d}", user_id=f"u{n // 2}") for n in range(12)]
    )
    report = resolve(resources.store, resources.registry)
    assert report.profiles == 6 and report.merged == 6
    for page_size in (1, 2, 5, 100):
        count = write_profiles(resources.store, resources.registry, tmp_path / "p.jsonl",
                               page_size=page_size)  # fmt: skip
        lines = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
        assert count == len(lines) == 6, page_size
        assert sum(len(x["identifiers"]) for x in lines) == 12 * 3 - 6
