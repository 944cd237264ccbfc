"""Shared devices never merge two people, whatever identifiers they use and in any order."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.resources import Resources
from graph.ingest.events import Identifier
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve, update_profiles
from ml.evaluation import merged_persons, read_truth
from ml.synthetic import generate

T0 = datetime(2026, 5, 1, tzinfo=UTC)
TABLET = "6f1c2b9e-4a57-4c1e-9d1a-1f2e3d4c5b6a"


def event(n: int, day: float, **identifiers: str) -> dict[str, Any]:
    return {
        "event_id": f"t-{n}",
        "timestamp": (T0 + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": "app",
        "type": "login",
        "identifiers": identifiers,
        "context": {"user_agent": "ShopApp/5.1 (iPad)"},
    }


#: the first person logs in with a user_id (their e-mail known from a purchase); the
#: second identifies with another type only
SECOND = {"email": "kid@example.com", "phone": "+14155550142", "loyalty_id": "L5550142"}


def tablet_events(second: str, order: str) -> list[dict[str, Any]]:
    first = [event(1, 0.5, user_id="u-parent", email="parent@example.com")]  # own phone
    first += [event(2 + n, 1 + n, device_id=TABLET, user_id="u-parent") for n in range(4)]
    other = [event(10 + n, 1.5 + n, device_id=TABLET, **{second: SECOND[second]})
             for n in range(4)]  # fmt: skip
    if order == "interleaved":
        return first + other
    if order == "parent-then-kid":  # handed on: the kid uses it after the parent
        return first + [{**e, "timestamp": _later(e)} for e in other]
    return [{**e, "timestamp": _later(e)} for e in first[1:]] + other + first[:1]


def _later(e: dict[str, Any]) -> str:
    moment = datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return (moment + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("second", sorted(SECOND))
@pytest.mark.parametrize("order", ["interleaved", "parent-then-kid", "kid-then-parent"])
def test_a_tablet_used_by_two_never_merges_them(
    resources: Resources, second: str, order: str
) -> None:
    events = tablet_events(second, order)
    resources.ingester().ingest_objects(events)
    resolve(resources.store, resources.registry, resources.resolve_settings())
    assigned = resources.store.assignments()
    parent = assigned[Identifier("user_id", "u-parent")]
    kid = assigned[Identifier(second, SECOND[second])]
    assert parent != kid
    assert assigned[Identifier("email", "parent@example.com")] == parent
    assert Identifier("device_id", TABLET) in {
        Identifier(q["type"], q["value"]) for q in resources.store.quarantine_list(100)
    }


@pytest.mark.parametrize("second", sorted(SECOND))
def test_the_real_time_path_keeps_them_apart_too(resources: Resources, second: str) -> None:
    """Events posted one at a time, each followed by the real-time update."""
    for e in tablet_events(second, "interleaved"):
        resources.ingester().ingest_objects([e])
        reg = resources.registry
        normalized = [Identifier(t, reg.normalize(t, v)) for t, v in e["identifiers"].items()]
        update_profiles(resources.store, resources.registry, normalized,
                        resources.resolve_settings())  # fmt: skip
    assigned = resources.store.assignments()
    assert (
        assigned[Identifier("user_id", "u-parent")]
        != assigned[Identifier(second, resources.registry.normalize(second, SECOND[second]))]
    )


@pytest.mark.slow
def test_shuffled_events_give_the_same_profiles_and_nobody_merged(
    resources: Resources, tmp_path: Path
) -> None:
    """A world full of shared devices, recycled numbers and mixed identity styles:
    ingesting its events in another order gives the same profiles, none mixing people."""
    data = generate(tmp_path / "world", persons=400, seed=77, shared_device_share=0.9,
                    shared_sequential=0.5, identity_styles=(0.4, 0.4, 0.2),
                    recycled_phones=0.05)  # fmt: skip
    truth = read_truth(data.truth_path)
    lines = data.events_path.read_text().splitlines()
    random.Random(3).shuffle(lines)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join(lines) + "\n")

    partitions = []
    for path in (data.events_path, shuffled):
        resources.store.delete_all()
        resources.ingester().ingest_records(read_records(path, "jsonl"))
        resolve(resources.store, resources.registry, resources.resolve_settings())
        assigned = resources.store.assignments()
        assert merged_persons(assigned, truth, types=None) == 0
        groups: dict[str, set[Identifier]] = {}
        for identifier, profile in assigned.items():
            groups.setdefault(profile, set()).add(identifier)
        partitions.append({frozenset(g) for g in groups.values()})
    assert partitions[0] == partitions[1]
    assert json.loads(data.manifest_path.read_text())["params"]["recycled_phones"] == 0.05
