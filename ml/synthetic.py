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
- ``manifest.json``: the settings and the exact expected ingest counts.
"""

from __future__ import annotations

import csv
import functools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["GeneratedData", "generate"]

DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com")
WORK_DOMAINS = ("acme-corp.com", "globex.io", "initech.com", "umbrella.co", "hooli.com")
FIRST = ("jane", "john", "maria", "li", "ahmed", "olga", "pierre", "sara", "ken", "ana",
         "tom", "emma", "noah", "mia", "lucas", "zoe", "omar", "ivy", "leo", "nina")  # fmt: skip
LAST = ("doe", "smith", "garcia", "chen", "khan", "ivanova", "martin", "rossi", "tanaka",
        "silva",
        "brown", "muller", "kim", "nguyen", "haddad", "novak", "berg", "costa")  # fmt: skip
AREA_CODES = ("212", "310", "415", "617", "312", "206", "512", "303", "404", "305", "702", "213")
TILL_PLACEHOLDER_EMAIL = "noemail@shopmail.com"
INVALID_VALUES = {
    "email": ("jane.doe@", "not-an-email", "n/a", "null", "@example"),
    "phone": ("12345", "000-000-0000", "unknown", "555"),
    "user_id": ("null", "undefined", "0"),
    "device_id": ("00000000-0000-0000-0000-000000000000", "none"),
    "cookie_id": ("undefined", "null"),
    "loyalty_id": ("0", "n/a"),
    "ip": ("999.1.1.1", "0.0.0.0", "localhost"),
}
UA_DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/{v}.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_{m}) AppleWebKit/605.1.15 Version/17.{m} Safari/605",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
)
UA_MOBILE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel {m}) AppleWebKit/537.36 Chrome/{v}.0 Mobile Safari",
)
UA_APP = ("ShopApp/{v}.{m} (iOS 17.{m})", "ShopApp/{v}.{m} (Android 14; SM-G99{m})")


@dataclass
class Device:
    kind: str  # "app", "desktop", "mobile_web"
    user_agent: str
    device_id: str | None = None
    cookies: list[tuple[int, str]] = field(default_factory=list)  # (from_day, cookie)
    logs_in: bool = True
    shared_with: list[int] = field(default_factory=list)  # other persons using it

    def cookie_on(self, day: int) -> str | None:
        current = None
        for start, cookie in self.cookies:
            if start <= day:
                current = cookie
        return current


@dataclass
class Person:
    pid: int
    emails: list[str]
    phone: str | None
    user_id: str | None
    loyalty_id: str | None
    home_ips: list[tuple[int, str]]  # (from_day, ip)
    office_ip: str | None
    devices: list[Device]
    activity: float
    first_name: str
    city: str

    def home_ip_on(self, day: int) -> str:
        current = self.home_ips[0][1]
        for start, ip in self.home_ips:
            if start <= day:
                current = ip
        return current


@dataclass
class GeneratedData:
    events_path: Path
    truth_path: Path
    manifest_path: Path
    manifest: dict[str, Any]


class _World:
    def __init__(self, persons: int, seed: int, days: int) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.used_ips: set[str] = set()
        self.carrier_pools = [[self._public_ip() for _ in range(40)] for _ in range(4)]
        self.cafes = [self._public_ip() for _ in range(max(3, persons // 400))]
        self.persons: list[Person] = []
        self._build(persons)

    # -- values ------------------------------------------------------------
    def _public_ip(self) -> str:
        while True:
            ip = f"{self.rng.choice((23, 45, 66, 73, 98, 99, 104, 172, 185, 203))}." + ".".join(
                str(self.rng.randint(1, 254)) for _ in range(3)
            )
            if (
                ip not in self.used_ips
                and not ip.startswith("172.1")
                and not ip.startswith("172.2")
            ):
                self.used_ips.add(ip)
                return ip

    def _phone(self) -> str:
        area = self.rng.choice(AREA_CODES)
        exchange = self.rng.randint(201, 989)
        while exchange % 100 == 11 or exchange == 555:
            exchange = self.rng.randint(201, 989)
        return f"+1{area}{exchange}{self.rng.randint(0, 9999):04d}"

    def _ua(self, kind: str) -> str:
        templates = {"app": UA_APP, "desktop": UA_DESKTOP, "mobile_web": UA_MOBILE}[kind]
        return self.rng.choice(templates).format(
            v=self.rng.randint(110, 131), m=self.rng.randint(0, 9)
        )

    def _device(self, kind: str) -> Device:
        device = Device(kind, self._ua(kind))
        if kind == "app":
            device.device_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        else:
            day = 0
            while day < self.days:
                device.cookies.append(
                    (day, "c" + uuid.UUID(int=self.rng.getrandbits(128)).hex[:16])
                )
                day += self.rng.randint(5, 45)  # cookies churn
        device.logs_in = self.rng.random() < 0.6
        return device

    # -- people ------------------------------------------------------------
    def _build(self, count: int) -> None:
        rng = self.rng
        offices: list[tuple[str, int]] = []  # (ip, capacity left)
        pid = 0
        while pid < count:
            size = min(rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0], count - pid)
            home = [(0, self._public_ip())]
            if rng.random() < 0.3:
                home.append((rng.randint(10, self.days - 10), self._public_ip()))
            city = rng.choice(("Boston", "Austin", "Denver", "Seattle", "Miami", "Chicago"))
            members: list[Person] = []
            for _ in range(size):
                office = None
                if rng.random() < 0.6:
                    if not offices or rng.random() < 0.15:
                        offices.append((self._public_ip(), rng.randint(5, 80)))
                    index = rng.randrange(len(offices))
                    office, left = offices[index]
                    offices[index] = (office, left - 1)
                    if left <= 1:
                        offices.pop(index)
                members.append(self._person(pid, home, office, city))
                pid += 1
            if len(members) >= 2 and rng.random() < 0.25:  # a family tablet
                tablet = self._device("app")
                tablet.logs_in = True
                for member in members[:2]:
                    member.devices.append(tablet)
                tablet.shared_with = [m.pid for m in members[:2]]
            self.persons.extend(members)

    def _person(
        self, pid: int, home: list[tuple[int, str]], office: str | None, city: str
    ) -> Person:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        emails = []
        if rng.random() < 0.9:
            emails.append(f"{first}.{last}{pid}@{rng.choice(DOMAINS)}")
        if office and rng.random() < 0.2:
            emails.append(f"{first[0]}{last}{pid}@{rng.choice(WORK_DOMAINS)}")
        kinds = rng.choices(("app", "desktop", "mobile_web"), (40, 35, 25), k=rng.randint(1, 3))
        return Person(
            pid=pid,
            emails=emails,
            phone=self._phone() if rng.random() < 0.7 else None,
            user_id=f"u{pid:08d}" if emails and rng.random() < 0.8 else None,
            loyalty_id=f"L{rng.randint(10**9, 10**10 - 1)}" if rng.random() < 0.35 else None,
            home_ips=home,
            office_ip=office,
            devices=[self._device(k) for k in kinds],
            activity=rng.lognormvariate(0, 0.6),
            first_name=first.capitalize(),
            city=city,
        )


def generate(
    output: Path,
    *,
    persons: int = 1000,
    seed: int = 7,
    days: int = 90,
    end: datetime | None = None,
    events_per_person: float = 24.0,
    invalid_rate: float = 0.01,
    malformed_rate: float = 0.002,
    replay_rate: float = 0.01,
) -> GeneratedData:
    """Write ``events.jsonl``, ``truth.csv`` and ``manifest.json`` to ``output``."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    end = end or datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=days)
    world = _World(persons, seed, days)
    rng = random.Random(seed + 1)
    raw_events = sorted(
        (
            e
            for person in world.persons
            for e in _person_events(person, world, rng, events_per_person)
        ),
        key=lambda e: (e[0], e[1]["event_id"]),
    )
    output.mkdir(parents=True, exist_ok=True)
    counts = {"accepted": 0, "duplicates": 0, "rejected": 0, "rejected_parts": 0, "lines": 0}
    truth: set[tuple[str, str, int]] = set()
    emitted: list[str] = []
    events_path = output / "events.jsonl"
    with events_path.open("w", encoding="utf-8") as out:
        for seconds, event, owners in raw_events:
            event["timestamp"] = _iso(start + timedelta(seconds=seconds))
            valid = _present(event, rng, invalid_rate, counts)
            if rng.random() < malformed_rate:
                line = _malform(event, rng)
                counts["rejected"] += 1
            elif not valid:
                line = json.dumps(event)
                counts["rejected"] += 1
            else:
                line = json.dumps(event)
                counts["accepted"] += 1
                counts["rejected_parts"] += event.pop("_invalid_parts")
                line = json.dumps(event)
                for type_name, value in valid:
                    for owner in owners.get((type_name, value), ()):
                        truth.add((type_name, value, owner))
                emitted.append(line)
            out.write(line + "\n")
            counts["lines"] += 1
            if emitted and rng.random() < replay_rate:  # a replayed (duplicate) event
                out.write(rng.choice(emitted) + "\n")
                counts["duplicates"] += 1
                counts["lines"] += 1
    truth_path = output / "truth.csv"
    with truth_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["type", "value", "person_id"])
        for type_name, value, owner in sorted(truth):
            writer.writerow([type_name, value, f"person-{owner}"])
    manifest = {
        "persons": persons,
        "seed": seed,
        "days": days,
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


def _person_events(
    person: Person, world: _World, rng: random.Random, per_person: float
) -> Iterator[RawEvent]:
    """The events of one person over the period (timestamp in seconds from start)."""
    n = max(1, int(rng.expovariate(1 / (per_person * person.activity))))
    for index in range(n):
        day = rng.randrange(world.days)
        hour = rng.choices(
            range(24), [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 10, 9, 7, 4, 2]
        )[0]
        seconds = day * 86400 + hour * 3600 + rng.randrange(3600)
        at_office = person.office_ip is not None and 9 <= hour <= 17 and day % 7 < 5
        device = rng.choice(person.devices)
        owners: Owners = {}
        ids: list[tuple[str, str]] = []

        add = functools.partial(_add, ids, owners, person.pid)

        if (device.kind != "app" and rng.random() < 0.12 and person.loyalty_id) or (
            not person.devices
        ):
            source, etype = "pos", "purchase"
            add("loyalty_id", person.loyalty_id)
            if person.phone and rng.random() < 0.5:
                add("phone", person.phone)
            if not person.emails and rng.random() < 0.5:  # the till's placeholder e-mail
                add("email", TILL_PLACEHOLDER_EMAIL, owner=[])
            elif person.emails and rng.random() < 0.3:
                add("email", person.emails[0])
            amount = round(rng.lognormvariate(3.5, 0.8), 2)
        else:
            network = rng.random()
            if device.kind == "desktop":
                ip = person.office_ip if at_office else person.home_ip_on(day)
            elif network < 0.55:
                ip = person.home_ip_on(day)
            elif network < 0.9:
                ip = rng.choice(world.carrier_pools[person.pid % len(world.carrier_pools)])
            else:
                ip = rng.choice(world.cafes)
            user = person
            if device.shared_with:  # the family tablet: either member
                user_pid = rng.choice(device.shared_with)
                user = (
                    next(p for p in world.persons if p.pid == user_pid)
                    if user_pid != person.pid
                    else person
                )
            if device.kind == "app":
                add("device_id", device.device_id, owner=device.shared_with or [person.pid])
            else:
                add("cookie_id", device.cookie_on(day))
            add("ip", ip, owner=[])
            roll = rng.random()
            amount = None
            if roll < 0.55 or not (device.logs_in and user.user_id):
                source, etype = ("app" if device.kind == "app" else "web"), "page_view"
            elif roll < 0.8:
                source, etype = ("app" if device.kind == "app" else "web"), "login"
                add("user_id", user.user_id, owner=[user.pid])
                if user.emails and rng.random() < 0.5:
                    add("email", user.emails[0], owner=[user.pid])
            elif roll < 0.93:
                source, etype = ("app" if device.kind == "app" else "web"), "purchase"
                add("user_id", user.user_id, owner=[user.pid])
                if user.emails:
                    add("email", rng.choice(user.emails), owner=[user.pid])
                amount = round(rng.lognormvariate(3.8, 0.9), 2)
            else:  # a call to the support desk: the agent types what the caller says
                source, etype = "support", "contact"
                ids.clear()
                owners.clear()
                if user.phone:
                    add("phone", user.phone, owner=[user.pid])
                add("user_id", user.user_id, owner=[user.pid])
                if user.emails and rng.random() < 0.5:
                    add("email", user.emails[0], owner=[user.pid])
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
