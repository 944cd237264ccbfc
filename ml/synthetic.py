"""Synthetic customers and their events, with ground truth.

The world is built to be hard in the ways real data is: people own several
devices, browser cookies churn, households share a home IP (and sometimes a
tablet), offices share a NAT address, mobile traffic comes from carrier NAT
pools, cafés are shared by everyone, logins tie devices to accounts, purchases
happen online and in stores, tills type a placeholder e-mail, and a share of
the values and lines are invalid or replayed. The generator knows exactly how
many events the ingester must accept, reject and drop as duplicates, and
writes it to ``manifest.json`` so tests can check the ingester's counts.

Files written to the output directory:

- ``events.jsonl``: one event a line, in time order (replays and bad lines mixed in);
- ``truth.csv``: ``type,value,person_id`` for every strong identifier (normalized);
  a value shared by several persons has one row per person;
- ``households.csv``: ``person_id,household_id``: who lives with whom;
- ``manifest.json``: the settings and the exact expected ingest counts.
"""

from __future__ import annotations

import csv
import functools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ml.population import TILL_PLACEHOLDER_EMAIL, Device, Person, World
from ml.worlds import WorldParams

__all__ = ["TILL_PLACEHOLDER_EMAIL", "GeneratedData", "WorldParams", "generate"]

INVALID_VALUES = {
    "email": ("jane.doe@", "not-an-email", "n/a", "null", "@example"),
    "phone": ("12345", "000-000-0000", "unknown", "555"),
    "user_id": ("null", "undefined", "0"),
    "device_id": ("00000000-0000-0000-0000-000000000000", "none"),
    "cookie_id": ("undefined", "null"),
    "loyalty_id": ("0", "n/a"),
    "ip": ("999.1.1.1", "0.0.0.0", "localhost"),
}


@dataclass
class GeneratedData:
    events_path: Path
    truth_path: Path
    manifest_path: Path
    manifest: dict[str, Any]


def generate(
    output: Path,
    *,
    params: WorldParams | None = None,
    end: datetime | None = None,
    **changes: Any,
) -> GeneratedData:
    """Write ``events.jsonl``, ``truth.csv`` and ``manifest.json`` to ``output``.

    ``params`` is the world (default: :class:`~ml.worlds.WorldParams`); keywords
    (``persons=``, ``seed=``, ``days=``, any other field of it) change it.
    """
    world_params = (params or WorldParams()).replace(**changes)
    if world_params.persons < 1:
        raise ValueError("persons must be at least 1")
    if world_params.days < 1:
        raise ValueError("days must be at least 1")
    end = end or datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=world_params.days)
    world = World(world_params)
    rng = random.Random(world_params.seed + 1)
    raw_events = sorted(
        (e for person in world.persons for e in _person_events(person, world, rng)),
        key=lambda e: (e[0], e[1]["event_id"]),
    )
    output.mkdir(parents=True, exist_ok=True)
    counts = {"accepted": 0, "duplicates": 0, "rejected": 0, "rejected_parts": 0, "lines": 0}
    truth: set[tuple[str, str, int]] = set()
    emitted: list[str] = []
    events_path = output / "events.jsonl"
    p = world_params
    with events_path.open("w", encoding="utf-8") as out:
        for seconds, event, owners in raw_events:
            event["timestamp"] = _iso(start + timedelta(seconds=seconds))
            valid = _present(event, rng, p.invalid_rate, counts)
            if rng.random() < p.malformed_rate:
                line = _malform(event, rng)
                counts["rejected"] += 1
            elif not valid:
                line = json.dumps(event)
                counts["rejected"] += 1
            else:
                counts["accepted"] += 1
                counts["rejected_parts"] += event.pop("_invalid_parts")
                line = json.dumps(event)
                for type_name, value in valid:
                    for owner in owners.get((type_name, value), ()):
                        truth.add((type_name, value, owner))
                emitted.append(line)
            out.write(line + "\n")
            counts["lines"] += 1
            if emitted and rng.random() < p.replay_rate:  # a replayed (duplicate) event
                out.write(rng.choice(emitted) + "\n")
                counts["duplicates"] += 1
                counts["lines"] += 1
    households_path = output / "households.csv"
    with households_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["person_id", "household_id"])
        for person in world.persons:
            writer.writerow([f"person-{person.pid}", f"household-{person.household}"])
    truth_path = output / "truth.csv"
    with truth_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["type", "value", "person_id"])
        for type_name, value, owner in sorted(truth):
            writer.writerow([type_name, value, f"person-{owner}"])
    manifest = {
        "world": p.name,
        "persons": p.persons,
        "seed": p.seed,
        "days": p.days,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(p).items()},
        "start": _iso(start),
        "end": _iso(end),
        "expected": counts,
        "truth_rows": len(truth),
    }
    manifest_path = output / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return GeneratedData(events_path, truth_path, manifest_path, manifest)


Owners = dict[tuple[str, str], list[int]]
RawEvent = tuple[int, dict[str, Any], Owners]


def _network(person: Person, device: Device, world: World, day: int, hour: int,
             rng: random.Random) -> str:  # fmt: skip
    """The IP an online event comes from."""
    if person.trip and person.trip[0] <= day <= person.trip[1] and rng.random() < 0.7:
        return person.trip[2]  # the hotel's Wi-Fi
    if person.vpn and device.kind != "app" and rng.random() < 0.5:
        return rng.choice(world.vpn_pool)
    at_office = person.office_ip is not None and 9 <= hour <= 17 and day % 7 < 5
    network = rng.random()
    if device.kind == "desktop":
        return person.office_ip if at_office and person.office_ip else person.home_ip_on(day)
    if at_office and person.office_ip and network < 0.3:
        return person.office_ip
    if network < 0.55:
        return person.home_ip_on(day)
    if network < 0.9:
        return rng.choice(world.carrier_pools[person.pid % len(world.carrier_pools)])
    return rng.choice(world.cafes)


def _identify(user: Person, day: int, add: Callable[..., None], rng: random.Random,
              purchase: bool) -> None:  # fmt: skip
    """The identifiers a person gives when they sign in or check out, by their style."""
    owner = [user.pid]
    phone = user.phone_on(day)
    if user.style == "account" and user.user_id:
        add("user_id", user.user_id, owner=owner)
        if user.emails and (purchase or rng.random() < 0.5):
            add("email", rng.choice(user.emails) if purchase else user.emails[0], owner=owner)
    elif user.style == "email" and user.emails:
        add("email", user.emails[0], owner=owner)
        if purchase and phone and rng.random() < 0.3:
            add("phone", phone, owner=owner)
    elif user.style == "phone" and phone:
        add("phone", phone, owner=owner)
        if purchase and user.emails and rng.random() < 0.3:
            add("email", user.emails[0], owner=owner)


def _person_events(person: Person, world: World, rng: random.Random) -> Iterator[RawEvent]:
    """The events of one person over the period (timestamp in seconds from start)."""
    n = max(1, int(rng.expovariate(1 / (world.params.events_per_person * person.activity))))
    for index in range(n):
        day = rng.randrange(world.days)
        hour = rng.choices(
            range(24), [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 10, 9, 7, 4, 2]
        )[0]
        seconds = day * 86400 + hour * 3600 + rng.randrange(3600)
        device = rng.choice(person.devices)
        owners: Owners = {}
        ids: list[tuple[str, str]] = []
        add = functools.partial(_add, ids, owners, person.pid)
        phone = person.phone_on(day)

        if (device.kind != "app" and rng.random() < 0.12 and person.loyalty_id) or (
            not person.devices
        ):
            source, etype = "pos", "purchase"
            add("loyalty_id", person.loyalty_id)
            if phone and rng.random() < 0.5:
                add("phone", phone)
            if not person.emails and rng.random() < 0.5:  # the till's placeholder e-mail
                add("email", TILL_PLACEHOLDER_EMAIL, owner=[])
            elif person.emails and rng.random() < 0.3:
                add("email", person.emails[0])
            amount = round(rng.lognormvariate(3.5, 0.8), 2)
        else:
            user_pid = device.user_on(day, rng)
            user = world.by_pid[user_pid] if user_pid is not None else person
            ip = _network(user, device, world, day, hour, rng)
            add(*_device_key(device, day), owner=device.shared_with or [person.pid])
            add("ip", ip, owner=[])
            roll = rng.random()
            amount = None
            can_identify = device.logs_in and user.style != "none"
            kind = "app" if device.kind == "app" else "web"
            if roll < 0.55 or not can_identify:
                source, etype = kind, "page_view"
            elif roll < 0.8:
                source, etype = kind, "login"
                _identify(user, day, add, rng, purchase=False)
            elif roll < 0.93:
                source, etype = kind, "purchase"
                _identify(user, day, add, rng, purchase=True)
                amount = round(rng.lognormvariate(3.8, 0.9), 2)
            else:  # a call to the support desk: the agent types what the caller says
                source, etype = "support", "contact"
                ids.clear()
                owners.clear()
                user_phone = user.phone_on(day)
                if user_phone:
                    add("phone", user_phone, owner=[user.pid])
                add("user_id", user.user_id, owner=[user.pid])
                if user.emails and (rng.random() < 0.5 or not user.user_id):
                    add("email", user.emails[0], owner=[user.pid])
                if not ids:
                    source, etype = kind, "page_view"  # nothing to say: browsing only
                    add(*_device_key(device, day), owner=device.shared_with or [person.pid])
                    add("ip", ip, owner=[])
        event: dict[str, Any] = {
            "event_id": f"e-{person.pid}-{index}",
            "source": source,
            "type": etype,
            "identifiers": [{"type": t, "value": v} for t, v in ids],
            "context": {"user_agent": device.user_agent} if source in ("web", "app") else {},
        }
        if etype == "purchase":
            event["properties"] = {
                "amount": amount,
                "currency": "USD",
                "order_id": f"o-{person.pid}-{index}",
            }
        if rng.random() < 0.05:
            event["traits"] = {"first_name": person.first_name, "city": person.city}
        yield seconds, event, owners


def _device_key(device: Device, day: int) -> tuple[str, str | None]:
    if device.kind == "app":
        return "device_id", device.device_id
    return "cookie_id", device.cookie_on(day)


def _add(
    ids: list[tuple[str, str]],
    owners: Owners,
    pid: int,
    type_name: str,
    value: str | None,
    owner: list[int] | None = None,
) -> None:
    if value:
        ids.append((type_name, value))
        owners[(type_name, value)] = owner if owner is not None else [pid]


def _present(
    event: dict[str, Any], rng: random.Random, invalid_rate: float, counts: dict[str, int]
) -> list[tuple[str, str]]:
    """Format values the way sources send them; inject invalid ones.

    Returns the normalized (type, value) pairs that stay valid; an empty list
    means the event will be rejected whole.
    """
    valid: list[tuple[str, str]] = []
    invalid = 0
    shown = []
    for ident in event["identifiers"]:
        type_name, value = ident["type"], ident["value"]
        if rng.random() < invalid_rate:
            shown.append({"type": type_name, "value": rng.choice(INVALID_VALUES[type_name])})
            invalid += 1
            continue
        valid.append((type_name, value))
        shown.append({"type": type_name, "value": _messy(type_name, value, rng)})
    event["identifiers"] = shown
    event["_invalid_parts"] = invalid
    if not valid:
        del event["_invalid_parts"]
    return valid


def _messy(type_name: str, value: str, rng: random.Random) -> str:
    """The same value as a real source might write it (normalization must undo this)."""
    roll = rng.random()
    if type_name == "email":
        return (" " + value.title() + " ") if roll < 0.2 else value
    if type_name == "phone":
        national = value[2:]
        if roll < 0.3:
            return f"({national[:3]}) {national[3:6]}-{national[6:]}"
        if roll < 0.5:
            return f"{national[:3]}.{national[3:6]}.{national[6:]}"
        if roll < 0.7:
            return f"+1 {national[:3]}-{national[3:6]}-{national[6:]}"
        return value
    if type_name == "device_id" and roll < 0.3:
        return value.upper()
    return value


def _malform(event: dict[str, Any], rng: random.Random) -> str:
    event.pop("_invalid_parts", None)
    kind = rng.randrange(3)
    if kind == 0:
        text = json.dumps(event)
        return text[: len(text) // 2]  # truncated line
    if kind == 1:
        event.pop("event_id")
    else:
        event["timestamp"] = "yesterday"
    return json.dumps(event)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
