"""The people of a generated world: households, devices, networks, how they identify.

:class:`World` builds them from :class:`~ml.worlds.WorldParams`; :mod:`ml.synthetic`
turns them into events with ground truth.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from ml.worlds import WorldParams

__all__ = ["TILL_PLACEHOLDER_EMAIL", "Device", "Person", "World"]

DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com")
WORK_DOMAINS = ("acme-corp.com", "globex.io", "initech.com", "umbrella.co", "hooli.com")
FIRST = ("jane", "john", "maria", "li", "ahmed", "olga", "pierre", "sara", "ken", "ana",
         "tom", "emma", "noah", "mia", "lucas", "zoe", "omar", "ivy", "leo", "nina")  # fmt: skip
LAST = ("doe", "smith", "garcia", "chen", "khan", "ivanova", "martin", "rossi", "tanaka",
        "silva",
        "brown", "muller", "kim", "nguyen", "haddad", "novak", "berg", "costa")  # fmt: skip
AREA_CODES = ("212", "310", "415", "617", "312", "206", "512", "303", "404", "305", "702", "213")
TILL_PLACEHOLDER_EMAIL = "noemail@shopmail.com"
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
    household: int = -1  #: which household (index) they live in

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


class World:
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
            for member in members:
                member.household = members[0].pid  # named after its first member
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
