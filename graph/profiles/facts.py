"""Profile facts: what a profile's events say about the customer, kept on the profile.

Facts are recomputed from the profile's distinct events whenever its membership
or events change through resolution (a full ``resolve``, the real-time path of
``POST /v1/events``, erasure) and stored as properties of the ``Profile`` node,
so segments compare them in the store. :func:`profile_facts` is pure; the store
supplies the aggregated rows (:meth:`graph.store.GraphStore.fact_inputs`).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.progress import Progress, no_progress
from graph.store.records import json_object

if TYPE_CHECKING:
    from graph.store import GraphStore

__all__ = [
    "FACT_PROPERTIES",
    "TRAIT_PREFIX",
    "FactInput",
    "ProfileFacts",
    "fact_input",
    "json_object",
    "profile_facts",
    "refresh_facts",
    "trait_property",
]

logger = logging.getLogger(__name__)

#: profile properties a trait's latest value is kept in: ``trait_<name>``
TRAIT_PREFIX = "trait_"

#: properties this module writes on a profile (besides ``trait_<name>``)
FACT_PROPERTIES = (
    "first_seen",
    "last_seen",
    "event_count",
    "sources",
    "events_by_type",
    "purchase_count",
    "purchase_total",
    "purchase_avg",
    "last_purchase",
    "currencies",
    "traits",
    "trait_keys",
    "facts_at",
)


@dataclass
class FactInput:
    """One profile's distinct events, aggregated by the store."""

    profile_id: str
    event_count: int
    first_seen: int | None
    last_seen: int | None
    sources: list[str]
    types: dict[str, int]  #: distinct events by type
    purchases: list[tuple[int, float | None, str | None]]  #: (ts, amount, currency)
    traits: list[tuple[int, str]]  #: (ts, traits JSON) of events that carried traits
    previous_trait_keys: list[str] = field(default_factory=list)
    #: the store's clock when these were read: the version of the facts
    read_at: int = 0


@dataclass
class ProfileFacts:
    first_seen: int | None
    last_seen: int | None
    event_count: int
    sources: list[str]
    events_by_type: dict[str, int]
    purchase_count: int
    purchase_total: float
    purchase_avg: float | None
    last_purchase: int | None
    currencies: list[str]
    #: name -> {"value": …, "observed_at": ts}, from the newest event carrying it
    traits: dict[str, dict[str, Any]]

    def properties(self, *, now: int, previous_trait_keys: Iterable[str] = ()) -> dict[str, Any]:
        """Node properties to ``SET p += …``: facts, one ``trait_<name>`` per scalar
        trait, and ``None`` for traits the profile no longer has (removes them)."""
        props: dict[str, Any] = {
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "event_count": self.event_count,
            "sources": self.sources,
            "events_by_type": json.dumps(self.events_by_type, sort_keys=True),
            "purchase_count": self.purchase_count,
            "purchase_total": round(self.purchase_total, 2),
            "purchase_avg": None if self.purchase_avg is None else round(self.purchase_avg, 2),
            "last_purchase": self.last_purchase,
            "currencies": self.currencies,
            "traits": json.dumps(self.traits, sort_keys=True, ensure_ascii=False),
            "facts_at": now,
        }
        keys = sorted(k for k, t in self.traits.items() if _scalar(t["value"]))
        for key in previous_trait_keys:
            if key not in self.traits or not _scalar(self.traits[key]["value"]):
                props[trait_property(key)] = None
        for key in keys:
            props[trait_property(key)] = self.traits[key]["value"]
        props["trait_keys"] = keys
        return props


def trait_property(name: str) -> str:
    """The profile property holding a trait's latest scalar value."""
    return TRAIT_PREFIX + name


def profile_facts(row: FactInput) -> ProfileFacts:
    """Facts from one profile's aggregated events (pure).

    Purchases count every event of a purchase type; amounts that are missing
    add nothing to the total, and the average is over purchases with an amount.
    Amounts are summed as recorded: mixed currencies are listed in
    ``currencies``, not converted.
    """
    amounts = [float(a) for _, a, _ in row.purchases if a is not None and _number(a)]
    latest: dict[str, dict[str, Any]] = {}
    for ts, text in sorted(row.traits, key=lambda t: (t[0], t[1])):
        try:
            traits = json.loads(text)
        except (TypeError, ValueError):
            logger.warning("profile %s: unreadable stored traits skipped", row.profile_id)
            continue
        if not isinstance(traits, dict):
            continue
        for name, value in traits.items():
            if value is not None:
                latest[str(name)] = {"value": value, "observed_at": int(ts)}
    return ProfileFacts(
        first_seen=_int(row.first_seen),
        last_seen=_int(row.last_seen),
        event_count=int(row.event_count),
        sources=sorted({s for s in row.sources if s}),
        events_by_type=dict(sorted((t, n) for t, n in row.types.items() if t and n)),
        purchase_count=len(row.purchases),
        purchase_total=sum(amounts),
        purchase_avg=sum(amounts) / len(amounts) if amounts else None,
        last_purchase=max((int(ts) for ts, _, _ in row.purchases), default=None),
        currencies=sorted({c for _, _, c in row.purchases if c}),
        traits=latest,
    )


def fact_input(row: Sequence[Any]) -> FactInput:
    """A :class:`FactInput` from a ``fact_inputs`` query row (its events grouped by
    type: sources, purchases and traits come as one list per type)."""
    pid, keys, count, first, last, sources, types, purchases, traits, read_at = row
    by_type: Counter[str] = Counter()
    for name, n in types or []:
        if name:
            by_type[name] += int(n or 0)
    return FactInput(
        profile_id=pid,
        event_count=int(count or 0),
        first_seen=first,
        last_seen=last,
        sources=[s for s in _flat(sources) if s],
        types=dict(by_type),
        purchases=[(int(ts), amount, currency) for ts, amount, currency in _flat(purchases)],
        traits=[(int(ts), text) for ts, text in _flat(traits)],
        previous_trait_keys=list(keys or []),
        read_at=int(read_at),
    )


def _flat(groups: Iterable[Iterable[Any] | None] | None) -> list[Any]:
    """The items of per-type lists, in one list."""
    return [item for group in groups or [] for item in group or []]


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def refresh_facts(
    store: GraphStore,
    profile_ids: Iterable[str],
    *,
    purchase_types: Sequence[str],
    batch_size: int = 500,
    progress: Progress = no_progress,
) -> int:
    """Recompute and store the facts of ``profile_ids`` (retired or unknown IDs are
    skipped); returns the number of profiles updated.

    Safe to run concurrently for the same profiles without a lock: facts are
    versioned by the store time their events were read (``facts_at``) and a write
    never replaces newer facts.
    """
    ids = sorted(set(profile_ids))
    updated = 0
    for start in range(0, len(ids), batch_size):
        progress("refreshing facts", start, len(ids))
        rows = [
            fact_input(r)
            for r in store.fact_inputs(ids[start : start + batch_size], purchase_types)
        ]
        updated += store.write_profile_facts(
            [
                {
                    "profile_id": row.profile_id,
                    "facts": profile_facts(row).properties(
                        now=row.read_at, previous_trait_keys=row.previous_trait_keys
                    ),
                }
                for row in rows
            ]
        )
    return updated
