"""Erasure (right to be forgotten) and the tombstones that keep erased data out.

Two depths. Forgetting a value (``with_events=False``: a recycled phone number,
a mistyped e-mail) deletes the identifier and all its relationships; the
events it appeared in stay, for the other identifiers in them. Erasing a
customer (``with_events=True``) also deletes every event their identifiers were
seen in (events carry traits and purchases), recounts the observation edges
those events supported, and deletes identifiers no remaining event mentions.
What stays is a salted
SHA-256 hash of each erased identifier and event ID: ingest drops values whose
hash is tombstoned, so replaying old events cannot bring them back. The salt is
created once per graph and stored in it, so every process hashes alike; the
hashes cannot be reversed without it and say nothing without the values.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from graph.ingest.events import Identifier
from graph.ingest.tombstones import Tombstones, tombstone_hash
from graph.store import GraphStore

__all__ = ["ErasureReport", "Tombstones", "erase_identifiers", "tombstone_hash"]


@dataclass
class ErasureReport:
    identifiers: list[dict[str, str]] = field(default_factory=list)
    events: int = 0
    orphans_removed: int = 0  #: other identifiers no remaining event mentions
    profiles_deleted: list[str] = field(default_factory=list)
    #: profiles that lost members and were re-resolved (they may have split)
    profiles_affected: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifiers": self.identifiers,
            "identifier_count": len(self.identifiers),
            "events": self.events,
            "orphans_removed": self.orphans_removed,
            "profiles_deleted": self.profiles_deleted,
            "profiles_affected": self.profiles_affected,
        }


def erase_identifiers(
    store: GraphStore, identifiers: Iterable[Identifier], *, now: int, with_events: bool
) -> tuple[ErasureReport, set[Identifier]]:
    """Delete identifiers (and, ``with_events``, their events); tombstone them.

    Returns the report and the remaining identifiers whose profiles must be
    re-resolved (callers run :func:`graph.resolve.resolution.update_profiles` on them).
    """
    targets = set(store.existing_identifiers(identifiers))
    report = ErasureReport(
        identifiers=[{"type": i.type, "value": i.value} for i in sorted(targets)]
    )
    if not targets:
        return report, set()
    salt = store.erasure_salt(secrets.token_hex(16))
    events = store.events_of_identifiers(targets) if with_events else {}
    survivors: set[Identifier] = set()
    pairs: set[tuple[Identifier, Identifier]] = set()
    for members in events.values():
        remaining = sorted(set(members) - targets)
        survivors.update(remaining)
        pairs.update(combinations(remaining, 2))
    before = {m: pid for m, pid, _ in store.members_of_profiles_of(targets)}
    # ready documents may hold the erased values (or traits of the erased events)
    holding = set(before.values())
    if survivors:
        holding |= {pid for _, pid, _ in store.members_of_profiles_of(survivors)}
    store.clear_ready_profiles(holding)
    store.delete_events(list(events))
    store.delete_identifiers(targets)
    store.recount_observations(pairs)
    report.orphans_removed = store.delete_orphans(survivors)
    report.events = len(events)
    hashes = [tombstone_hash(salt, i.type, i.value) for i in targets]
    hashes += [tombstone_hash(salt, "event", event_id) for event_id in events]
    store.add_tombstones(hashes, now=now)
    fellow_members = {m for m in before if m not in targets}
    report.profiles_affected = sorted({before[m] for m in fellow_members})
    report.profiles_deleted = sorted(set(before.values()) - set(report.profiles_affected))
    return report, fellow_members | survivors
