"""Segment-spec messages (``identify``, ``track``, ``page``, ``screen``, ``alias``,
``group``) translated into idgraph events: pure functions.

The Segment HTTP Tracking API and RudderStack's speak the same messages; their
clients, warehouse dumps and bucket archives all carry them. A message becomes one
raw idgraph event (the dictionary ``POST /v1/events`` takes), so it goes through the
same validation, rejects and ingest as every other event:

- ``messageId`` → ``event_id`` (a replay is a duplicate); a message without one gets
  an ID derived from its content, so a client retrying it still stores it once;
- the event time with Segment's clock-skew correction (:func:`event_time`);
- identifiers from the message paths of :attr:`SegmentMapping.identifiers`
  (``userId`` → user_id, ``anonymousId`` → anonymous_id, ``traits.email`` → email, ...);
- the other traits (``traits`` of identify and group, ``context.traits`` of every call)
  as traits; ``context.userAgent`` as the user agent;
- ``track`` events named in :attr:`SegmentMapping.purchase_events` become ``purchase``
  events, their amount the first of :attr:`SegmentMapping.revenue_properties` present
  (``revenue``, ``total``, ``value``) and their ``currency``;
- ``alias`` links ``previousId`` to ``userId`` (the one event carries both).

A message that cannot be an event raises :class:`MessageRejected` with the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph.errors import InputError
from graph.ingest.events import parse_timestamp
from graph.ingest.readers import RawRecord

__all__ = [
    "CALL_TYPES",
    "DEFAULT_IDENTIFIERS",
    "MAX_MESSAGE_BYTES",
    "MessageRejected",
    "SegmentMapping",
    "event_time",
    "to_event",
    "translate_records",
]

CALL_TYPES = ("identify", "track", "page", "screen", "alias", "group")
#: Segment's limit on one message (its batch limit, 500 KB, is the API's to check)
MAX_MESSAGE_BYTES = 32 * 1024
#: message path → identifier type; a path names nested keys with dots
DEFAULT_IDENTIFIERS: Mapping[str, str] = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "previousId": "anonymous_id",
    "traits.email": "email",
    "traits.phone": "phone",
    "context.traits.email": "email",
    "context.traits.phone": "phone",
    "context.ip": "ip",
    "context.device.id": "device_id",
    "context.device.advertisingId": "device_id",
}
#: message keys that are not the event's properties or traits
_ENVELOPE = frozenset(
    {"type", "messageId", "timestamp", "originalTimestamp", "sentAt", "receivedAt",
     "userId", "anonymousId", "previousId", "groupId", "event", "name", "category",
     "traits", "properties", "context", "integrations", "channel", "version",
     "writeKey", "_metadata", "projectId", "request_ip", "rudderId"}
)  # fmt: skip


class MessageRejected(InputError):
    """A message that cannot become an event (the reason is the message text)."""


@dataclass(frozen=True)
class SegmentMapping:
    """Which message paths are which identifier types, and which events are purchases."""

    identifiers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IDENTIFIERS))
    purchase_events: tuple[str, ...] = ("Order Completed",)
    revenue_properties: tuple[str, ...] = ("revenue", "total", "value")
    #: the event source when the message names no library (``context.library.name``)
    source: str = "segment"


def _ms(value: object, name: str) -> int:
    try:
        return parse_timestamp(value)
    except ValueError as e:
        raise MessageRejected(f"{name}: {e}", field=name) from e


def event_time(message: Mapping[str, Any], *, received_ms: int | None, sent_at: object) -> int:
    """When the message happened, in epoch ms, as Segment computes ``timestamp``.

    With the device's ``originalTimestamp`` and the ``sentAt`` of the message or its
    batch, the device clock's skew is taken out: ``receivedAt - (sentAt -
    originalTimestamp)``. Otherwise an explicit ``timestamp`` (server libraries,
    historical imports, warehouse dumps) is used as it is; a message with neither
    happened when it was received (``receivedAt``: the server's clock for the HTTP API,
    the message's own field in files).
    """
    received = received_ms
    if message.get("receivedAt") is not None and received is None:
        received = _ms(message["receivedAt"], "receivedAt")
    sent = message.get("sentAt", sent_at)
    original = message.get("originalTimestamp")
    if original is not None and sent is not None and received is not None:
        return received - (_ms(sent, "sentAt") - _ms(original, "originalTimestamp"))
    if message.get("timestamp") is not None:
        return _ms(message["timestamp"], "timestamp")
    if original is not None:
        return _ms(original, "originalTimestamp")
    if received is None:
        raise MessageRejected("no timestamp, originalTimestamp or receivedAt", field="timestamp")
    return received


def _path(message: Mapping[str, Any], path: str) -> object:
    node: object = message
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _message_id(message: Mapping[str, Any]) -> str:
    given = message.get("messageId")
    if isinstance(given, str) and given.strip():
        return given.strip()
    if given is not None and not isinstance(given, str):
        raise MessageRejected("messageId must be a string", field="messageId")
    content = {k: v for k, v in message.items() if k not in ("sentAt", "receivedAt")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode())
    return "segment-" + digest.hexdigest()[:32]


def _number(value: object) -> object:
    """``"19.90"`` → 19.9 (producers send amounts as text too); anything else as is,
    for the event's validation to accept or reject."""
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return value
    return value


def _size(message: Mapping[str, Any]) -> int:
    return len(json.dumps(message, separators=(",", ":"), default=str).encode())


def to_event(
    message: object,
    mapping: SegmentMapping,
    *,
    received_ms: int | None = None,
    sent_at: object = None,
    call: str | None = None,
) -> dict[str, Any]:
    """The raw idgraph event for one Segment message (``call``: the type the endpoint
    implies, e.g. ``/v1/track``; otherwise the message's ``type``)."""
    if not isinstance(message, Mapping):
        raise MessageRejected("a message must be a JSON object")
    kind = call or message.get("type")
    if kind not in CALL_TYPES:
        raise MessageRejected(
            f"type must be one of {', '.join(CALL_TYPES)} (got {str(kind)[:40]!r})", field="type"
        )
    if _size(message) > MAX_MESSAGE_BYTES:
        raise MessageRejected(f"message over {MAX_MESSAGE_BYTES // 1024} KB (Segment's limit)")
    for required in ("userId", "anonymousId"):
        value = message.get(required)
        if value is not None and not isinstance(value, str | int):
            raise MessageRejected(f"{required} must be a string", field=required)
    if message.get("userId") in (None, "") and message.get("anonymousId") in (None, ""):
        raise MessageRejected("a message needs a userId or an anonymousId", field="userId")
    event_name = message.get("event")
    if kind == "track" and not (isinstance(event_name, str) and event_name.strip()):
        raise MessageRejected("a track call needs an event name", field="event")
    if kind == "alias" and message.get("previousId") in (None, ""):
        raise MessageRejected("an alias call needs a previousId", field="previousId")

    identifiers: dict[str, list[Any]] = {}
    used_traits: dict[str, set[str]] = {"traits": set(), "context.traits": set()}
    for path, type_name in mapping.identifiers.items():
        if path == "previousId" and kind != "alias":
            continue
        if path.startswith("traits.") and kind == "group":
            continue  # a group's traits describe the group (its billing e-mail…)
        value = _path(message, path)
        if value is None or value == "":
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # numeric user IDs are common
        values = identifiers.setdefault(type_name, [])
        if value not in values:
            values.append(value)
        parent, _, key = path.rpartition(".")
        if parent in used_traits:
            used_traits[parent].add(key)

    context = message.get("context")
    context = context if isinstance(context, Mapping) else {}
    traits: dict[str, Any] = {}
    for parent in ("context.traits", "traits"):  # a call's own traits win
        if parent == "traits" and kind != "identify":
            continue  # only identify's traits are the person's (a group's are the group's)
        given = _path(message, parent)
        if isinstance(given, Mapping):
            traits.update({k: v for k, v in given.items() if k not in used_traits[parent]})

    properties: dict[str, Any] = {}
    given_properties = message.get("properties")
    if isinstance(given_properties, Mapping):
        properties.update(given_properties)
    extra = {k: v for k, v in message.items() if k not in _ENVELOPE}
    properties.update(extra)  # fields a producer added at the top level
    native_type = kind
    if kind == "track":
        native_type = event_name.strip()  # type: ignore[union-attr]
        if native_type in mapping.purchase_events:
            properties["event"] = native_type
            native_type = "purchase"
            for name in mapping.revenue_properties:
                if properties.get(name) is not None:
                    properties["amount"] = _number(properties[name])
                    break
    elif kind in ("page", "screen"):
        for name in ("name", "category"):
            if isinstance(message.get(name), str):
                properties[name] = message[name]
    elif kind == "group":
        properties["group_id"] = message.get("groupId")
        if isinstance(message.get("traits"), Mapping):
            properties["group_traits"] = message["traits"]

    moment = event_time(message, received_ms=received_ms, sent_at=sent_at)
    try:
        timestamp = datetime.fromtimestamp(moment / 1000, UTC).isoformat()
    except (OverflowError, ValueError, OSError) as e:
        raise MessageRejected("the event time is out of range", field="timestamp") from e
    library = context.get("library")
    source = library.get("name") if isinstance(library, Mapping) else None
    user_agent = context.get("userAgent")
    event: dict[str, Any] = {
        "event_id": _message_id(message),
        "timestamp": timestamp,
        "source": source if isinstance(source, str) and source.strip() else mapping.source,
        "type": native_type,
        "identifiers": identifiers,
        "traits": traits,
        "properties": properties,
    }
    if user_agent is not None:
        event["context"] = {"user_agent": user_agent}
    return event


def translate_records(
    records: Iterable[RawRecord],
    mapping: SegmentMapping,
    *,
    received_ms: int | None = None,
    sent_at: object = None,
    call: str | None = None,
) -> Iterator[RawRecord]:
    """Decoded messages (lines of a file, or a batch) as raw idgraph events; a message
    that cannot be one becomes a record with its reason, rejected whole by the ingest."""
    for record in records:
        if record.error is not None:
            yield record
            continue
        try:
            raw = to_event(record.raw, mapping, received_ms=received_ms, sent_at=sent_at, call=call)
        except MessageRejected as e:
            given = record.raw.get("messageId") if isinstance(record.raw, Mapping) else None
            event_id = given[:200] if isinstance(given, str) else None
            yield RawRecord(record.line, error=str(e), event_id=event_id)
        else:
            yield RawRecord(record.line, raw=raw)
