"""Parsing one raw event into a validated :class:`Event`: pure functions.

The same code path serves the CLI (JSONL/CSV lines), the API (a JSON batch)
and jobs. An event is rejected whole only when it cannot be used at all
(missing ``event_id``/``timestamp``/``source``/``type``, or no valid
identifier); a bad identifier or property is rejected alone, with its reason,
and the rest of the event is kept.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph.errors import IdentifierRejected
from graph.ingest.identifiers import Registry
from graph.store.records import Identifier, has_nul

__all__ = [
    "DAY_MS",
    "Event",
    "Identifier",
    "ParseResult",
    "Reject",
    "format_ts",
    "now_ms",
    "parse_event",
    "parse_timestamp",
]

MAX_ID_LENGTH = 200
MAX_JSON_LENGTH = 8192
REQUIRED = ("event_id", "timestamp", "source", "type")


@dataclass(frozen=True)
class Event:
    """A validated event, ready for the observation graph."""

    event_id: str
    ts: int  # epoch milliseconds, UTC
    source: str
    type: str
    #: distinct and sorted
    identifiers: tuple[Identifier, ...]
    user_agent: str | None = None
    traits: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    amount: float | None = None
    currency: str | None = None
    #: the same as JSON text, as stored (None when empty)
    traits_json: str | None = None
    properties_json: str | None = None


@dataclass(frozen=True)
class Reject:
    """One rejected part of the input, with where it was and why."""

    reason: str
    field: str | None = None
    value: object = None
    line: int | None = None
    event_id: str | None = None
    identifier_type: str | None = None
    #: True when the whole event (or line) was dropped, False for one part of it
    whole_event: bool = False

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if not isinstance(value, str | int | float | bool | type(None)):
            value = _short_json(value)
        return {
            "line": self.line,
            "event_id": self.event_id,
            "field": self.field,
            "type": self.identifier_type,
            "value": value,
            "reason": self.reason,
            "whole_event": self.whole_event,
        }


@dataclass(frozen=True)
class ParseResult:
    """An event (or ``None`` when rejected whole) and the rejected parts."""

    event: Event | None
    rejects: tuple[Reject, ...] = ()


def parse_timestamp(value: object) -> int:
    """ISO 8601 with an offset (``Z`` or ``+02:00``) to epoch milliseconds."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise ValueError("not an ISO 8601 timestamp") from e
    if moment.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return int(moment.timestamp() * 1000)


#: one day in milliseconds (timestamps are epoch milliseconds throughout)
DAY_MS = 86_400_000


def now_ms() -> int:
    """The current time in epoch milliseconds (the unit of every stored time)."""
    return int(time.time() * 1000)


def format_ts(ts: int | None) -> str | None:
    """Epoch milliseconds back to ISO 8601 UTC (``2026-03-10T08:48:34Z``)."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts / 1000, tz=UTC)
    text = moment.isoformat(timespec="milliseconds" if ts % 1000 else "seconds")
    return text.replace("+00:00", "Z")


def parse_event(
    raw: object,
    registry: Registry,
    *,
    line: int | None = None,
    max_identifiers: int = 20,
) -> ParseResult:
    """Validate and normalize one raw event (a decoded JSON object)."""
    if not isinstance(raw, Mapping):
        return _whole(f"expected a JSON object, got {type(raw).__name__}", line=line)
    event_id = raw.get("event_id")
    eid = event_id.strip() if isinstance(event_id, str) else None
    for name in REQUIRED:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            reason = "missing" if value in (None, "") else "must be a non-empty string"
            return _whole(f"{name} {reason}", field=name, value=value, line=line, event_id=eid)
        if "\x00" in value:
            return _whole(f"{name} {NUL_REASON}", field=name, value=value.replace("\x00", ""),
                          line=line, event_id=None)  # fmt: skip
    assert eid is not None
    if len(eid) > MAX_ID_LENGTH:
        return _whole("event_id too long", field="event_id", value=eid[:50], line=line)
    try:
        ts = parse_timestamp(raw["timestamp"])
    except ValueError as e:
        return _whole(str(e), field="timestamp", value=raw["timestamp"], line=line, event_id=eid)

    rejects: list[Reject] = []
    identifiers = _identifiers(raw.get("identifiers"), registry, rejects, line, eid)
    if identifiers is None:
        return ParseResult(None, tuple(rejects))
    if not identifiers:
        return ParseResult(
            None,
            (
                *rejects,
                Reject("no valid identifier", "identifiers", None, line, eid, whole_event=True),
            ),
        )
    if len(identifiers) > max_identifiers:
        return _whole(
            f"{len(identifiers)} identifiers in one event (at most {max_identifiers})",
            field="identifiers",
            line=line,
            event_id=eid,
        )

    context = _object(raw, "context", rejects, line, eid)  # only user_agent is kept
    traits = _object(raw, "traits", rejects, line, eid)
    traits_json = _stored_json(traits, "traits", rejects, line, eid)
    properties = _object(raw, "properties", rejects, line, eid)
    user_agent = context.get("user_agent")
    if user_agent is not None and not isinstance(user_agent, str):
        rejects.append(Reject("must be a string", "context.user_agent", user_agent, line, eid))
        user_agent = None
    amount = properties.pop("amount", None)
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount)
    ):
        rejects.append(Reject("must be a finite number", "properties.amount", amount, line, eid))
        amount = None
    currency = properties.pop("currency", None)
    if currency is not None and not isinstance(currency, str):
        rejects.append(Reject("must be a string", "properties.currency", currency, line, eid))
        currency = None
    properties_json = _stored_json(properties, "properties", rejects, line, eid)
    event = Event(
        event_id=eid,
        ts=ts,
        source=raw["source"].strip(),
        type=raw["type"].strip(),
        identifiers=tuple(sorted(identifiers)),
        user_agent=user_agent.strip()[:512] if user_agent else None,
        traits=traits if traits_json else {},
        properties=properties if properties_json else {},
        amount=float(amount) if amount is not None else None,
        currency=currency.strip().upper() if currency else None,
        traits_json=traits_json,
        properties_json=properties_json,
    )
    return ParseResult(event, tuple(rejects))


def _whole(
    reason: str,
    *,
    field: str | None = None,
    value: object = None,
    line: int | None = None,
    event_id: str | None = None,
) -> ParseResult:
    return ParseResult(None, (Reject(reason, field, value, line, event_id, whole_event=True),))


def _identifiers(
    raw: object,
    registry: Registry,
    rejects: list[Reject],
    line: int | None,
    eid: str,
) -> list[Identifier] | None:
    """Normalized, de-duplicated identifiers in input order; ``None`` if unusable."""
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, Mapping):  # shorthand {"email": "...", "ip": [..]}
        for type_name, values in raw.items():
            for value in values if isinstance(values, list) else [values]:
                pairs.append((type_name, value))
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping) and "type" in item and "value" in item:
                pairs.append((item["type"], item["value"]))
            else:
                rejects.append(
                    Reject("expected {type, value}", "identifiers", _short_json(item), line, eid)
                )
    else:
        rejects.append(
            Reject(
                "missing" if raw is None else "must be a list of {type, value} or an object",
                "identifiers",
                None if raw is None else _short_json(raw),
                line,
                eid,
                whole_event=True,
            )
        )
        return None
    seen: dict[Identifier, None] = {}
    for type_name, value in pairs:
        try:
            normalized = registry.normalize(type_name, value)
        except IdentifierRejected as e:
            field_name = "identifiers.type" if e.field == "type" else "identifiers.value"
            rejects.append(
                Reject(
                    e.reason,
                    field_name,
                    value,
                    line,
                    eid,
                    identifier_type=type_name if isinstance(type_name, str) else None,
                )
            )
            continue
        assert isinstance(type_name, str)
        seen.setdefault(Identifier(type_name, normalized))
    return list(seen)


def _object(
    raw: Mapping[str, Any], name: str, rejects: list[Reject], line: int | None, eid: str
) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        rejects.append(Reject("must be an object", name, _short_json(value), line, eid))
        return {}
    if has_nul(value):
        rejects.append(Reject(NUL_REASON, name, None, line, eid))
        return {}
    return dict(value)


#: the graph stores cannot hold text with NUL characters (FalkorDB sends parameters as text)
NUL_REASON = "contains a NUL character (\\u0000), which cannot be stored"


def _stored_json(
    value: Mapping[str, Any], name: str, rejects: list[Reject], line: int | None, eid: str
) -> str | None:
    """The JSON text stored for ``traits``/``properties``; too large: rejected."""
    if not value:
        return None
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    if len(text) > MAX_JSON_LENGTH:
        rejects.append(
            Reject(f"larger than {MAX_JSON_LENGTH} bytes as JSON", name, None, line, eid)
        )
        return None
    return text


def _short_json(value: object, limit: int = 200) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
