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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ml.worlds import WorldParams

__all__ = ["GeneratedData", "WorldParams", "generate"]

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
    shared_with: list[int] = field(default_factory=list)  # persons using it
    handover_day: int | None = None  # shared in turn: the second user from this day

    def cookie_on(self, day: int) -> str | None:
        return _on(self.cookies, day)

    def user_on(self, day: int, rng: random.Random) -> int | None:
        """Who uses a shared device that day (``None``: not shared)."""
        if not self.shared_with:
            return None
        if self.handover_day is not None:
            return self.shared_with[0 if day < self.handover_day else 1]
        return rng.choice(self.shared_with)


@dataclass
class Person:
    pid: int
    emails: list[str]
    phones: list[tuple[int, str | None]]  # (from_day, phone): numbers change hands
    user_id: str | None
    loyalty_id: str | None
    home_ips: list[tuple[int, str]]  # (from_day, ip)
    office_ip: str | None
    devices: list[Device]
    activity: float
    first_name: str
    city: str
    style: str  #: how they identify on devices: "account", "email", "phone" or "none"
    vpn: bool = False
    trip: tuple[int, int, str] | None = None  # (first day, last day, hotel ip)

    def home_ip_on(self, day: int) -> str:
        return _on(self.home_ips, day) or self.home_ips[0][1]

    def phone_on(self, day: int) -> str | None:
        return _on(self.phones, day)

    @property
    def phone(self) -> str | None:  # the first number (tests, demo)
        return self.phones[0][1] if self.phones else None


def _on(periods: list[tuple[int, Any]], day: int) -> Any:
    current = None
    for start, value in periods:
        if start <= day:
            current = value
    return current


@dataclass
class GeneratedData:
    events_path: Path
    truth_path: Path
    manifest_path: Path
    manifest: dict[str, Any]


class _World:
    def __init__(self, params: WorldParams) -> None:
        p = self.params = params
        self.rng = random.Random(params.seed)
        self.days = params.days
        self.used_ips: set[str] = set()
        self.carrier_pools = [
            [self._public_ip() for _ in range(p.carrier_pool_size)]
            for _ in range(max(1, p.carrier_pools))
        ]
        self.cafes = [
            self._public_ip() for _ in range(max(3, round(p.persons * p.cafes_per_1000 / 1000)))
        ]
        self.vpn_pool = [self._public_ip() for _ in range(max(1, p.vpn_pool_size))]
        self.hotels = [self._public_ip() for _ in range(max(2, p.persons // 200))]
        self.persons: list[Person] = []
        self._build(p.persons)
        self.by_pid = {person.pid: person for person in self.persons}
        self._recycle_phones()

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
        versions = max(1, self.params.ua_versions)
        return self.rng.choice(templates).format(
            v=110 + self.rng.randrange(versions), m=self.rng.randrange(min(10, versions))
        )

    def _device(self, kind: str, household_ua: dict[str, str]) -> Device:
        p, rng = self.params, self.rng
        if kind not in household_ua:
            household_ua[kind] = self._ua(kind)
        ua = household_ua[kind] if rng.random() < p.household_same_ua else self._ua(kind)
        device = Device(kind, ua)
        if kind == "app":
            device.device_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        else:
            low, high = p.cookie_days
            day = 0
            while day < self.days:
                device.cookies.append((day, "c" + uuid.UUID(int=rng.getrandbits(128)).hex[:16]))
                day += rng.randint(max(1, low), max(1, low, high))  # cookies churn
        device.logs_in = rng.random() >= p.never_login
        return device

    # -- people ------------------------------------------------------------
    def _build(self, count: int) -> None:
        p, rng = self.params, self.rng
        offices: list[tuple[str, int]] = []  # (ip, capacity left)
        sizes = range(1, len(p.household_sizes) + 1)
        pid = 0
        while pid < count:
            size = min(rng.choices(sizes, p.household_sizes)[0], count - pid)
            home = [(0, self._public_ip())]
            if rng.random() < 0.3 and self.days > 20:
                home.append((rng.randint(10, self.days - 10), self._public_ip()))
            city = rng.choice(("Boston", "Austin", "Denver", "Seattle", "Miami", "Chicago"))
            household_ua: dict[str, str] = {}
            members: list[Person] = []
            for _ in range(size):
                office = None
                if rng.random() < p.office_share:
                    if not offices or rng.random() < 0.15:
                        offices.append((self._public_ip(), rng.randint(*p.office_size)))
                    index = rng.randrange(len(offices))
                    office, left = offices[index]
                    offices[index] = (office, left - 1)
                    if left <= 1:
                        offices.pop(index)
                members.append(self._person(pid, home, office, city, household_ua))
                pid += 1
            if len(members) >= 2 and rng.random() < p.shared_device_share:
                shared = self._device(rng.choice(("app", "desktop")), household_ua)
                shared.logs_in = True
                users = rng.sample(members, 2)
                for member in users:
                    member.devices.append(shared)
                shared.shared_with = [m.pid for m in users]
                if rng.random() < p.shared_sequential:
                    shared.handover_day = rng.randint(self.days // 4, 3 * self.days // 4)
            self.persons.extend(members)

    def _person(
        self,
        pid: int,
        home: list[tuple[int, str]],
        office: str | None,
        city: str,
        household_ua: dict[str, str],
    ) -> Person:
        p, rng = self.params, self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        emails = []
        if rng.random() < 0.9:
            emails.append(f"{first}.{last}{pid}@{rng.choice(DOMAINS)}")
        if office and rng.random() < 0.2:
            emails.append(f"{first[0]}{last}{pid}@{rng.choice(WORK_DOMAINS)}")
        phone = self._phone() if rng.random() < 0.7 else None
        style = rng.choices(("account", "email", "phone"), p.identity_styles)[0]
        user_id = f"u{pid:08d}" if style == "account" and emails and rng.random() < 0.8 else None
        for candidate, has in (("account", user_id), ("email", emails), ("phone", phone)):
            if style == candidate and not has:
                style = {"account": "email", "email": "phone", "phone": "none"}[candidate]
        kinds = rng.choices(("app", "desktop", "mobile_web"), (40, 35, 25), k=rng.randint(1, 3))
        trip = None
        if rng.random() < p.travel_share and self.days > 7:
            start = rng.randrange(self.days - 5)
            trip = (start, start + rng.randint(2, 5), rng.choice(self.hotels))
        return Person(
            pid=pid,
            emails=emails,
            phones=[(0, phone)] if phone else [],
            user_id=user_id,
            loyalty_id=f"L{rng.randint(10**9, 10**10 - 1)}" if rng.random() < 0.35 else None,
            home_ips=home,
            office_ip=office,
            devices=[self._device(k, household_ua) for k in kinds],
            activity=rng.lognormvariate(0, 0.6),
            first_name=first.capitalize(),
            city=city,
            style=style,
            vpn=rng.random() < p.vpn_share,
            trip=trip,
        )

    def _recycle_phones(self) -> None:
        """Some people give up their number mid-period; after a dormant spell the
        carrier hands it to someone else (who may have had no number)."""
        rng = self.rng
        owners = [person for person in self.persons if person.phones]
        if self.days < 30 or len(self.persons) < 2:
            return
        for person in owners:
            if rng.random() >= self.params.recycled_phones:
                continue
            number = person.phones[0][1]
            given_up = rng.randint(5, self.days // 2)
            person.phones.append((given_up, self._phone()))
            heir = rng.choice(self.persons)
            if heir.pid == person.pid:
                continue
            heir.phones.append((min(self.days - 1, given_up + rng.randint(30, 90)), number))
            heir.phones.sort(key=lambda period: period[0])


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
    world = _World(world_params)
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


def _network(person: Person, device: Device, world: _World, day: int, hour: int,
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


def _person_events(person: Person, world: _World, rng: random.Random) -> Iterator[RawEvent]:
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
