"""Households above profiles: customers who share a home.

Two kinds of evidence join profiles into a household:

- a **home IP**: an address where few browsers and apps are seen (at most
  ``max_agents`` user agents, as :mod:`ml.browsers` defines a home) and at most
  ``max_profiles`` identified profiles, used by each of them on at least
  ``min_days`` distinct days, at least one of them in the evening or at night
  (18:00-08:00 UTC): an office is used in working hours, a café by too many;
- a **shared device**: a device or cookie quarantined because it was used with
  the identities of two customers (a family tablet, a laptop whose user cannot be
  told apart): it joins their profiles' household and belongs to it instead of
  being dropped.

A household is formed only when two or more profiles (or a shared device) are
joined. IDs are stable, with lineage, by the same rule as profile IDs
(:func:`graph.resolve.integrity.assign_ids_with_lineage`). Postal addresses and
landlines are not identifier types yet, so they are not used. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from graph.ingest.events import DAY_MS
from graph.resolve.clustering import connected_components, new_profile_id
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES
from graph.resolve.lineage import assign_ids_with_lineage
from graph.store.records import Identifier

__all__ = ["HouseholdPlan", "HouseholdSettings", "plan_households"]

HOUR_MS = 3_600_000
#: a profile as a member of a household cluster (the lineage rule takes identifiers)
PROFILE = "profile"


@dataclass(frozen=True)
class HouseholdSettings:
    #: an IP with more user agents than this is a network, not a home
    max_agents: int = 8
    #: an IP used by more identified profiles than this is no home
    max_profiles: int = 6
    #: days each profile must be seen on a home IP
    min_days: int = 3


@dataclass
class HouseholdPlan:
    #: household ID -> its profile IDs
    households: dict[str, list[str]]
    #: household ID -> shared devices (quarantined) that belong to it
    devices: dict[str, list[Identifier]] = field(default_factory=dict)
    #: household ID -> home IPs that joined its profiles
    homes: dict[str, list[str]] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    split_from: dict[str, str] = field(default_factory=dict)

    def household_of(self) -> dict[str, str]:
        return {pid: hid for hid, pids in self.households.items() for pid in pids}


def plan_households(
    assignments: Mapping[Identifier, str],
    observations: Iterable[tuple[Identifier, str, str | None, int]],
    shared_devices: Mapping[Identifier, Sequence[Identifier]],
    current: Mapping[str, str],
    *,
    settings: HouseholdSettings | None = None,
) -> HouseholdPlan:
    """Households from profile ``assignments`` (identifier -> profile), weak
    ``observations`` (identifier, IP, user agent, ms), ``shared_devices``
    (quarantined device -> the identifiers it was seen with) and ``current``
    households (profile -> household ID, for stable IDs).

    Cost: O(observations) to collect, then near-linear union of profiles.
    """
    settings = settings or HouseholdSettings()
    identified = {
        pid for identifier, pid in assignments.items() if identifier.type in IDENTITY_TYPES
    }
    agents: dict[str, set[str]] = defaultdict(set)
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    nights: set[tuple[str, str]] = set()
    for identifier, ip, ua, ts in observations:
        if ua:
            agents[ip].add(ua)
        pid = assignments.get(identifier)
        if pid is None or pid not in identified:
            continue
        days[(ip, pid)].add(ts // DAY_MS)
        hour = (ts // HOUR_MS) % 24
        if hour >= 18 or hour < 8:
            nights.add((ip, pid))
    at_home: dict[str, set[str]] = defaultdict(set)
    for (ip, pid), seen in days.items():
        if len(seen) >= settings.min_days:
            at_home[ip].add(pid)
    edges: list[tuple[str, str]] = []
    homes_of: dict[tuple[str, str], str] = {}
    for ip, pids in at_home.items():
        if len(agents[ip]) > settings.max_agents or not 2 <= len(pids) <= settings.max_profiles:
            continue
        if not any((ip, pid) in nights for pid in pids):
            continue  # used in working hours only: an office
        ordered = sorted(pids)
        for other in ordered[1:]:
            edges.append((ordered[0], other))
            homes_of[(ordered[0], other)] = ip
    device_of: dict[Identifier, list[str]] = {}
    for device, seen_with in shared_devices.items():
        if device.type not in DEVICE_TYPES:
            continue  # a shared e-mail or phone says nothing about a home
        owners = sorted({assignments[i] for i in seen_with if assignments.get(i) in identified})
        if 2 <= len(owners) <= settings.max_profiles:
            device_of[device] = owners
            edges.extend((owners[0], other) for other in owners[1:])
    nodes = sorted({pid for edge in edges for pid in edge})
    groups = [g for g in connected_components(nodes, edges) if len(g) >= 2]
    members = [[Identifier(PROFILE, pid) for pid in group] for group in groups]
    ids = assign_ids_with_lineage(
        members,
        {Identifier(PROFILE, pid): hid for pid, hid in current.items()},
        new_id=lambda: "hh_" + new_profile_id().removeprefix("prf_"),
    )
    plan = HouseholdPlan(
        households={hid: sorted(group) for hid, group in zip(ids.ids, groups, strict=True)},
        merged_into=ids.merged_into,
        split_from=ids.split_from,
    )
    household = plan.household_of()
    for device, owners in device_of.items():
        plan.devices.setdefault(household[owners[0]], []).append(device)
    for (a, _), ip in homes_of.items():
        homes = plan.homes.setdefault(household[a], [])
        if ip not in homes:
            homes.append(ip)
    return plan
