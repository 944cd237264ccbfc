"""Segment-spec messages → idgraph events (pure translation), then the event parser."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.ingest.events import parse_event, parse_timestamp
from graph.ingest.identifiers import default_registry
from graph.ingest.readers import RawRecord
from graph.ingest.segment_messages import (
    MessageRejected,
    SegmentMapping,
    event_time,
    to_event,
    translate_records,
)

MAPPING = SegmentMapping()
REGISTRY = default_registry()
NOW = parse_timestamp("2026-12-01T12:00:00Z")


def _event(message: dict[str, Any], **kwargs: Any) -> Any:
    raw = to_event(message, MAPPING, received_ms=NOW, **kwargs)
    result = parse_event(raw, REGISTRY)
    assert result.event is not None, result.rejects
    return raw, result.event


def test_identify_maps_ids_traits_and_context() -> None:
    _raw, event = _event(
        {
            "type": "identify",
            "messageId": "m1",
            "userId": "u-7",
            "anonymousId": "a-7",
            "traits": {"email": " Jane.Doe@Example.com", "phone": "(415) 555-0123", "name": "Jane"},
            "context": {
                "ip": "203.0.113.9",
                "userAgent": "Mozilla/5.0",
                "library": {"name": "analytics-python", "version": "2.4.0"},
                "device": {"id": "D-1", "advertisingId": "AD-1"},
            },
            "timestamp": "2026-11-30T08:00:00Z",
        }
    )
    assert event.event_id == "m1" and event.type == "identify"
    assert event.source == "analytics-python"
    assert {(i.type, i.value) for i in event.identifiers} >= {
        ("user_id", "u-7"),
        ("anonymous_id", "a-7"),
        ("email", "jane.doe@example.com"),
        ("phone", "+14155550123"),
        ("ip", "203.0.113.9"),
    }
    assert {i.type for i in event.identifiers if i.type == "device_id"} == {"device_id"}
    assert dict(event.traits) == {"name": "Jane"}  # identifiers are not traits
    assert event.user_agent == "Mozilla/5.0"
    assert event.ts == parse_timestamp("2026-11-30T08:00:00Z")


def test_purchase_amount_from_the_first_revenue_property() -> None:
    _, event = _event(
        {
            "type": "track",
            "messageId": "m2",
            "userId": "u",
            "event": "Order Completed",
            "properties": {"total": "30.5", "value": 99, "currency": "EUR", "order_id": "o-1"},
        }
    )
    assert event.type == "purchase" and event.amount == 30.5 and event.currency == "EUR"
    assert event.properties["event"] == "Order Completed"
    _, other = _event(
        {
            "type": "track",
            "messageId": "m3",
            "userId": "u",
            "event": "Viewed",
            "properties": {"revenue": 5},
        }
    )
    assert other.type == "Viewed" and other.amount is None
    custom = SegmentMapping(purchase_events=("Checkout",), revenue_properties=("price",))
    raw = to_event(
        {
            "type": "track",
            "userId": "u",
            "event": "Checkout",
            "properties": {"price": 7, "revenue": 1},
        },
        custom,
        received_ms=NOW,
    )
    assert raw["type"] == "purchase" and raw["properties"]["amount"] == 7


def test_alias_links_previous_id_and_group_traits_stay_the_groups() -> None:
    raw, _ = _event({"type": "alias", "messageId": "m4", "userId": "u-1", "previousId": "a-0"})
    assert raw["identifiers"] == {"user_id": ["u-1"], "anonymous_id": ["a-0"]}
    raw, _ = _event({"type": "track", "userId": "u-1", "event": "X", "previousId": "a-9"})
    assert "anonymous_id" not in raw["identifiers"]  # previousId only means something in alias
    raw, event = _event(
        {
            "type": "group",
            "userId": "u-1",
            "groupId": "acme",
            "traits": {"name": "Acme Inc", "email": "billing@acme.example"},
        }
    )
    assert dict(event.traits) == {}
    assert raw["identifiers"] == {"user_id": ["u-1"]}  # the group's e-mail is not the person's
    assert event.properties["group_id"] == "acme"
    assert event.properties["group_traits"]["name"] == "Acme Inc"


def test_clock_skew_is_corrected_and_explicit_timestamps_kept() -> None:
    skewed = {"originalTimestamp": "2026-12-01T13:00:00Z", "sentAt": "2026-12-01T13:00:10Z"}
    assert event_time(skewed, received_ms=NOW, sent_at=None) == NOW - 10_000
    # the batch's sentAt counts when the message has none
    assert (
        event_time(
            {"originalTimestamp": "2026-12-01T13:00:00Z"},
            received_ms=NOW,
            sent_at="2026-12-01T13:00:02Z",
        )
        == NOW - 2_000
    )
    assert event_time(
        {"timestamp": "2020-01-01T00:00:00Z", "sentAt": "2026-12-01T12:00:00Z"},
        received_ms=NOW,
        sent_at=None,
    ) == parse_timestamp("2020-01-01T00:00:00Z")
    assert event_time({}, received_ms=NOW, sent_at=None) == NOW
    # a dump: its own receivedAt
    dumped = {"receivedAt": "2026-01-01T00:00:00Z"}
    assert event_time(dumped, received_ms=None, sent_at=None) == parse_timestamp(
        "2026-01-01T00:00:00Z"
    )
    with pytest.raises(MessageRejected, match="no timestamp"):
        event_time({}, received_ms=None, sent_at=None)
    with pytest.raises(MessageRejected, match="sentAt"):
        event_time(
            {"originalTimestamp": "2026-12-01T13:00:00Z", "sentAt": "yesterday"},
            received_ms=NOW,
            sent_at=None,
        )


def test_missing_message_id_is_derived_from_the_content() -> None:
    message = {"type": "track", "userId": "u", "event": "X", "timestamp": "2026-12-01T10:00:00Z"}
    first = to_event({**message, "sentAt": "2026-12-01T10:00:01Z"}, MAPPING, received_ms=NOW)
    retry = to_event({**message, "sentAt": "2026-12-01T10:05:00Z"}, MAPPING, received_ms=NOW + 1)
    other = to_event({**message, "event": "Y"}, MAPPING, received_ms=NOW)
    assert first["event_id"] == retry["event_id"] != other["event_id"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("text", "JSON object"),
        ({"type": "shout", "userId": "u"}, "type must be one of"),
        ({"type": "track", "userId": "u"}, "event name"),
        ({"type": "identify", "traits": {"email": "a@b.co"}}, "userId or an anonymousId"),
        ({"type": "alias", "userId": "u"}, "previousId"),
        ({"type": "identify", "userId": {"id": 1}}, "userId must be a string"),
        ({"type": "page", "userId": "u", "messageId": 7}, "messageId must be a string"),
        ({"type": "page", "userId": "u", "properties": {"x": "y" * 40_000}}, "32 KB"),
        ({"type": "page", "userId": "u", "timestamp": "99999-01-01"}, "timestamp"),
    ],
)
def test_unusable_messages_are_rejected_with_a_reason(message: Any, reason: str) -> None:
    with pytest.raises(MessageRejected, match=reason):
        to_event(message, MAPPING, received_ms=NOW)


def test_translate_records_keeps_order_and_turns_rejects_into_records() -> None:
    records = [
        RawRecord(0, raw={"type": "page", "userId": "u", "messageId": "ok"}),
        RawRecord(1, raw={"type": "track", "userId": "u", "messageId": "bad"}),
        RawRecord(2, error="not JSON"),
    ]
    out = list(translate_records(records, MAPPING, received_ms=NOW))
    assert [r.line for r in out] == [0, 1, 2]
    assert out[0].raw["event_id"] == "ok"  # type: ignore[index]
    assert out[1].error and "event name" in out[1].error and out[1].event_id == "bad"
    assert out[2].error == "not JSON"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
MESSAGES = (
    st.fixed_dictionaries(
        {},
        optional={
            key: JSON
            for key in (
                "type",
                "messageId",
                "userId",
                "anonymousId",
                "event",
                "traits",
                "properties",
                "context",
                "timestamp",
                "originalTimestamp",
                "sentAt",
                "previousId",
                "groupId",
            )
        },
    )
    | JSON
)


@settings(max_examples=400)
@given(MESSAGES, st.sampled_from([None, "track", "identify", "alias", "group", "page"]))
def test_any_message_becomes_an_event_dict_or_a_reasoned_reject(message: Any, call: Any) -> None:
    """Whatever a producer sends: a raw event the parser can judge, or MessageRejected."""
    try:
        raw = to_event(message, MAPPING, received_ms=NOW, call=call)
    except MessageRejected as e:
        assert str(e)
        return
    result = parse_event(raw, REGISTRY)  # never raises either: rejects, with reasons
    assert result.event is not None or all(r.reason for r in result.rejects)
