"""Profile facts: what a profile's events say about the customer, kept on the profile.

Facts are computed from the profile's distinct events and stored as properties of
the ``Profile`` node, so segments compare them in the store. :func:`profile_facts`
is pure; the store supplies the aggregated rows
(:meth:`graph.store.GraphStore.fact_inputs`).

Where a profile's events change, its new events are *added* to its stored facts
(:func:`added_facts`) wherever that gives what a recomputation would
(:mod:`graph.profiles.refresh` decides where). Every fact is a count, a sum, a
minimum or maximum, a set, or the newest value of a trait (at the same time, the
greater one): all can be added to.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from graph.store.records import json_object

__all__ = [
    "FACTS_FORMAT",
    "FACT_PROPERTIES",
    "TRAIT_PREFIX",
    "FactInput",
    "ProfileFacts",
    "added_facts",
    "fact_input",
    "json_object",
    "profile_facts",
    "trait_property",
]

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
#: amounts are summed in this context: wide enough that no sum of finite floats is
#: rounded (their shortest decimal forms span about 650 digits), so the sum is the
#: same in any order; cents are rounded half up
EXACT = Context(prec=800, rounding=ROUND_HALF_UP)

#: what stored facts hold and how they are computed from events: a change of this
#: module that changes them for the same events bumps it, and the next full resolve
#: computes every profile's facts again (graph.resolve.changes.facts_basis)
FACTS_FORMAT = 1

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
    "purchase_amounts",
    "purchase_sum",
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
    #: the ingest sequence the events were counted up to (None: not known)
    sequence: int | None = None


@dataclass
class ProfileFacts:
    first_seen: int | None
    last_seen: int | None
    event_count: int
    sources: list[str]
    events_by_type: dict[str, int]
    purchase_count: int
    last_purchase: int | None
    currencies: list[str]
    #: name -> {"value": …, "observed_at": ts}, from the newest event carrying it
    traits: dict[str, dict[str, Any]]
    #: purchases with an amount, and their exact sum (what later events add to)
    purchase_amounts: int = 0
    purchase_sum: Decimal = Decimal(0)

    @property
    def purchase_total(self) -> float:
        return float(self.purchase_sum)

    @property
    def purchase_avg(self) -> float | None:
        """Over the purchases with an amount (None: none has one)."""
        if not self.purchase_amounts:
            return None
        return float(EXACT.divide(self.purchase_sum, self.purchase_amounts))

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
            "purchase_total": _cents(self.purchase_sum),
            "purchase_avg": (
                _cents(EXACT.divide(self.purchase_sum, self.purchase_amounts))
                if self.purchase_amounts
                else None
            ),
            "purchase_amounts": self.purchase_amounts,
            "purchase_sum": str(self.purchase_sum),
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
    Amounts are summed exactly (as decimals, so that adding later events to the sum
    gives the same cents) and rounded half up to cents when stored.
    Amounts are summed as recorded: mixed currencies are listed in
    ``currencies``, not converted. A trait's value is the newest event's; of two
    events at the same time, the greater value (:func:`_replaces`): the same
    whatever order the events come in, and what adding events later gives.
    """
    amounts = [Decimal(str(a)) for _, a, _ in row.purchases if _number(a)]
    total = functools.reduce(EXACT.add, amounts, Decimal(0))
    return ProfileFacts(
        first_seen=_int(row.first_seen),
        last_seen=_int(row.last_seen),
        event_count=int(row.event_count),
        sources=sorted({s for s in row.sources if s}),
        events_by_type=dict(sorted((t, n) for t, n in row.types.items() if t and n)),
        purchase_count=len(row.purchases),
        last_purchase=max((int(ts) for ts, _, _ in row.purchases), default=None),
        currencies=sorted({c for _, _, c in row.purchases if c}),
        traits=_observe({}, row.traits, row.profile_id),
        purchase_amounts=len(amounts),
        purchase_sum=total,
    )


def added_facts(stored: Sequence[Any], new: FactInput) -> ProfileFacts | None:
    """A profile's stored facts with the events of ``new`` added (pure); ``stored``:
    the stored properties as :meth:`graph.store.GraphStore.fact_deltas` reads them.
    None when they lack what adding needs (facts stored by an older idgraph)."""
    (count, first, last, sources, by_type, purchases, amounts, amount_sum, last_purchase,
     currencies, traits_text) = stored  # fmt: skip
    if count is None or purchases is None or amounts is None or amount_sum is None:
        return None
    added = profile_facts(new)
    types: Counter[str] = Counter(json_object(by_type))
    types.update(added.events_by_type)
    try:
        total = EXACT.add(Decimal(str(amount_sum)), added.purchase_sum)
    except ArithmeticError:  # not a number: recomputed
        return None
    n_amounts = int(amounts) + added.purchase_amounts
    traits = {
        str(name): held
        for name, held in json_object(traits_text).items()
        if isinstance(held, dict) and "observed_at" in held
    }
    for name, seen in added.traits.items():
        _observe_value(traits, name, seen["value"], seen["observed_at"])
    return ProfileFacts(
        first_seen=_either(_int(first), added.first_seen, min),
        last_seen=_either(_int(last), added.last_seen, max),
        event_count=int(count) + added.event_count,
        sources=sorted({*(sources or []), *added.sources}),
        events_by_type=dict(sorted((t, n) for t, n in types.items() if t and n)),
        purchase_count=int(purchases) + added.purchase_count,
        last_purchase=_either(_int(last_purchase), added.last_purchase, max),
        currencies=sorted({*(currencies or []), *added.currencies}),
        traits=dict(sorted(traits.items())),
        purchase_amounts=n_amounts,
        purchase_sum=total,
    )


def _observe(latest: dict[str, dict[str, Any]], rows: Iterable[tuple[int, str]],
             profile_id: str) -> dict[str, dict[str, Any]]:  # fmt: skip
    """``latest`` with the traits of events ``(ts, traits JSON)`` observed."""
    for ts, text in rows:
        try:
            traits = json.loads(text)
        except (TypeError, ValueError):
            logger.warning("profile %s: unreadable stored traits skipped", profile_id)
            continue
        if not isinstance(traits, dict):
            continue
        for name, value in traits.items():
            if value is not None:
                _observe_value(latest, str(name), value, int(ts))
    return latest


def _observe_value(latest: dict[str, dict[str, Any]], name: str, value: Any, ts: int) -> None:
    """Keep ``value`` seen at ``ts`` as trait ``name`` if it replaces the one held."""
    held = latest.get(name)
    if held is None or _replaces((ts, value), (int(held["observed_at"]), held.get("value"))):
        latest[name] = {"value": value, "observed_at": ts}


def _replaces(seen: tuple[int, Any], held: tuple[int, Any]) -> bool:
    """Whether a trait value seen at a time replaces the one held: the newer does; at
    the same time, the greater by its JSON text (any order of events, one answer)."""
    if seen[0] != held[0]:
        return seen[0] > held[0]
    return _order(seen[1]) > _order(held[1])


def _order(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _either(a: int | None, b: int | None, pick: Any) -> int | None:
    """``pick`` (min or max) of the values that are not None."""
    values = [v for v in (a, b) if v is not None]
    return pick(values) if values else None


def fact_input(row: Sequence[Any]) -> FactInput:
    """A :class:`FactInput` from a ``fact_inputs`` query row (its events grouped by
    type: sources, purchases and traits come as one list per type)."""
    pid, keys, count, first, last, sources, types, purchases, traits, read_at, sequence = row
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
        sequence=None if sequence is None else int(sequence),
    )


def _flat(groups: Iterable[Iterable[Any] | None] | None) -> list[Any]:
    """The items of per-type lists, in one list."""
    return [item for group in groups or [] for item in group or []]


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _cents(value: Decimal) -> float:
    return float(value.quantize(CENT, context=EXACT))


def _number(value: Any) -> bool:
    """A finite amount (not None, a bool, a string, infinity or NaN)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
