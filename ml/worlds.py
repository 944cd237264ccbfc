"""Parameters of a generated world, and the named worlds quality is measured on.

A world is everything :func:`ml.synthetic.generate` varies: who lives with
whom, how people identify themselves, which networks they share, how browsers
and devices behave. Quality claims are made across several worlds with
different parameters and seeds (``bench/quality.py --worlds``), never on one.
The tests use other seeds than the benchmark's worlds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BENCH_WORLDS", "WorldParams", "world"]


@dataclass(frozen=True)
class WorldParams:
    """How one generated world behaves. Weights need not sum to 1."""

    name: str = "default"
    persons: int = 1000
    seed: int = 7
    days: int = 90
    events_per_person: float = 24.0
    #: weights of household sizes 1, 2, 3, ...
    household_sizes: tuple[float, ...] = (40, 30, 20, 10)
    #: share of a person's own devices that never log in (anonymous for their lifetime)
    never_login: float = 0.4
    #: browser/app versions in circulation (fewer: user agents repeat across people)
    ua_versions: int = 22
    #: chance that a device takes its household's user agent for its kind
    #: (everyone at home has the same phone model and browser version)
    household_same_ua: float = 0.0
    #: a browser cookie lives this many days (min, max) before it is renewed
    cookie_days: tuple[int, int] = (5, 45)
    #: share of persons who work in an office, and office sizes (persons per NAT)
    office_share: float = 0.6
    office_size: tuple[int, int] = (5, 80)
    #: carrier NAT pools (mobile traffic) and addresses per pool
    carrier_pools: int = 4
    carrier_pool_size: int = 40
    #: cafés (public Wi-Fi) per 1,000 persons
    cafes_per_1000: float = 2.5
    #: share of persons whose desktop/mobile traffic goes through a VPN pool, its size
    vpn_share: float = 0.0
    vpn_pool_size: int = 20
    #: share of persons who travel once (a hotel's Wi-Fi for a few days)
    travel_share: float = 0.0
    #: share of multi-person households with a shared device (family tablet or laptop)
    shared_device_share: float = 0.25
    #: share of shared devices handed from one person to the other (used in turn,
    #: not interleaved)
    shared_sequential: float = 0.0
    #: weights of how people identify on their devices: a user_id login (with the
    #: e-mail sometimes), an e-mail only (guest checkout, magic link), a phone only
    #: (SMS code); a person without the identifier falls back to the next style
    identity_styles: tuple[float, float, float] = (1.0, 0.0, 0.0)
    #: share of phone numbers given up during the period and reassigned to someone else
    recycled_phones: float = 0.0
    invalid_rate: float = 0.01
    malformed_rate: float = 0.002
    replay_rate: float = 0.01

    def replace(self, **changes: Any) -> WorldParams:
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        """The parameters that differ from the default world (for reports)."""
        default = WorldParams()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "name" and getattr(self, f.name) != getattr(default, f.name)
        }


#: a realistic mix: most people log in with an account, some only give an e-mail or
#: a phone; some share devices, recycle numbers, use VPNs and travel
_MIXED = WorldParams(
    identity_styles=(0.6, 0.3, 0.1),
    shared_sequential=0.3,
    recycled_phones=0.02,
    vpn_share=0.05,
    travel_share=0.1,
)

#: the worlds ``bench/quality.py --worlds`` measures (seeds no test uses)
BENCH_WORLDS: Mapping[str, WorldParams] = {
    w.name: w
    for w in (
        _MIXED.replace(name="baseline", persons=1500, seed=1001),
        _MIXED.replace(
            name="same-user-agents", persons=1500, seed=1002, ua_versions=2,
            household_same_ua=0.8,
        ),
        _MIXED.replace(name="cookie-churn", persons=1500, seed=1003, cookie_days=(2, 10)),
        _MIXED.replace(
            name="big-households", persons=1500, seed=1004,
            household_sizes=(10, 20, 25, 20, 15, 10), shared_device_share=0.5,
        ),
        _MIXED.replace(
            name="shared-devices", persons=1500, seed=1005, shared_device_share=0.9,
            shared_sequential=0.5, identity_styles=(0.4, 0.4, 0.2), recycled_phones=0.05,
        ),
        _MIXED.replace(name="short-period", persons=1500, seed=1006, days=14,
                       events_per_person=12.0),
        _MIXED.replace(name="long-period", persons=1000, seed=1007, days=180,
                       events_per_person=60.0, cookie_days=(7, 90)),
        _MIXED.replace(
            name="busy-networks", persons=1500, seed=1008, never_login=0.3, office_share=0.8,
            office_size=(20, 150), carrier_pools=2, carrier_pool_size=15, cafes_per_1000=8,
            vpn_share=0.25, vpn_pool_size=8, travel_share=0.3, events_per_person=60.0,
        ),
    )
}  # fmt: skip


def world(name: str) -> WorldParams:
    """A named benchmark world (``KeyError`` lists the names)."""
    try:
        return BENCH_WORLDS[name]
    except KeyError:
        raise KeyError(f"no world {name!r}; worlds: {', '.join(BENCH_WORLDS)}") from None
