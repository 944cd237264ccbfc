from __future__ import annotations

import pytest

from graph.ingest.events import Identifier, format_ts, parse_event, parse_timestamp
from graph.ingest.identifiers import default_registry

REGISTRY = default_registry()


def event(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_id": "e-1",
        "timestamp": "2026-03-10T08:48:34Z",
        "source": "web",
        "type": "login",
        "identifiers": [
            {"type": "cookie_id", "value": "a011dc2a87"},
            {"type": "email", "value": " Jane.Doe@Example.com"},
            {"type": "ip", "value": "99.2.177.235"},
        ],
        "context": {"user_agent": "Mozilla/5.0"},
        "traits": {"first_name": "Jane"},
    }
    base.update(changes)
    return base


def test_design_example_parses() -> None:
    result = parse_event(event(), REGISTRY)
    assert result.rejects == ()
    assert result.event is not None
    assert result.event.identifiers == (
        Identifier("cookie_id", "a011dc2a87"),
        Identifier("email", "jane.doe@example.com"),
        Identifier("ip", "99.2.177.235"),
    )
    assert result.event.ts == parse_timestamp("2026-03-10T08:48:34+00:00")
    assert result.event.user_agent == "Mozilla/5.0"
    assert result.event.traits_json == '{"first_name": "Jane"}'


def test_shorthand_identifiers_and_lists() -> None:
    result = parse_event(
        event(identifiers={"email": "a@b.com", "ip": ["1.2.3.4", "5.6.7.8"]}), REGISTRY
    )
    assert result.event is not None
    assert len(result.event.identifiers) == 3


def test_a_bad_identifier_is_rejected_alone() -> None:
    raw = event(
        identifiers=[
            {"type": "email", "value": "n/a"},
            {"type": "phone", "value": "(415) 555-0123"},
        ]
    )
    result = parse_event(raw, REGISTRY, line=7)
    assert result.event is not None
    assert result.event.identifiers == (Identifier("phone", "+14155550123"),)
    (reject,) = result.rejects
    assert (reject.line, reject.event_id, reject.field, reject.identifier_type, reject.value) == (
        7,
        "e-1",
        "identifiers.value",
        "email",
        "n/a",
    )
    assert reject.reason == "placeholder value" and not reject.whole_event


def test_duplicate_identifiers_in_one_event_collapse() -> None:
    raw = event(
        identifiers=[{"type": "email", "value": "A@b.com"}, {"type": "email", "value": "a@B.com "}]
    )
    result = parse_event(raw, REGISTRY)
    assert result.event is not None and len(result.event.identifiers) == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"event_id": None}, "event_id"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": 12}, "event_id"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2026-03-10T08:48:34"}, "timestamp"),  # no offset
        ({"source": None}, "source"),
        ({"type": ""}, "type"),
        ({"identifiers": None}, "identifiers"),
        ({"identifiers": "a@b.com"}, "identifiers"),
        ({"identifiers": [{"type": "email", "value": "null"}]}, "identifiers"),
        ({"identifiers": []}, "identifiers"),
    ],
)
def test_unusable_events_are_rejected_whole(changes: dict[str, object], field: str) -> None:
    result = parse_event(event(**changes), REGISTRY)
    assert result.event is None
    assert any(r.whole_event and r.field == field for r in result.rejects)


def test_not_an_object() -> None:
    result = parse_event(["a"], REGISTRY, line=3)
    assert result.event is None and result.rejects[0].line == 3


def test_too_many_identifiers() -> None:
    ids = [{"type": "cookie_id", "value": f"c{i:04d}"} for i in range(30)]
    result = parse_event(event(identifiers=ids), REGISTRY, max_identifiers=20)
    assert result.event is None and "at most 20" in result.rejects[0].reason


def test_purchase_amount_is_validated_but_event_kept() -> None:
    good = parse_event(
        event(type="purchase", properties={"amount": 42.5, "currency": "usd", "order_id": "o-7"}),
        REGISTRY,
    )
    assert good.event is not None
    assert (good.event.amount, good.event.currency) == (42.5, "USD")
    assert good.event.properties_json == '{"order_id": "o-7"}'
    bad = parse_event(event(properties={"amount": "lots"}), REGISTRY)
    assert bad.event is not None and bad.event.amount is None
    assert bad.rejects[0].field == "properties.amount"


def test_wrong_optional_parts_are_dropped_with_reasons() -> None:
    result = parse_event(event(context={"user_agent": 5}, traits=["x"]), REGISTRY)
    assert result.event is not None
    assert {r.field for r in result.rejects} == {"context.user_agent", "traits"}


def test_timestamps_with_offsets() -> None:
    assert parse_timestamp("2026-03-10T10:48:34+02:00") == parse_timestamp("2026-03-10T08:48:34Z")
    assert format_ts(parse_timestamp("2026-03-10T08:48:34Z")) == "2026-03-10T08:48:34Z"
    assert format_ts(parse_timestamp("2026-03-10T08:48:34.250Z")) == "2026-03-10T08:48:34.250Z"
    assert format_ts(None) is None


def test_oversized_traits_are_dropped_with_a_reason() -> None:
    result = parse_event(event(traits={"bio": ["x" * 100] * 100}), REGISTRY)
    assert result.event is not None and result.event.traits_json is None
    assert result.rejects[0].field == "traits" and "larger than" in result.rejects[0].reason


def test_nul_characters_are_rejected_where_they_are_and_the_rest_kept() -> None:
    """FalkorDB sends parameters as text: a NUL would cut the query (found by schemathesis)."""
    whole = parse_event(event(event_id="e\x001"), REGISTRY)
    assert whole.event is None and "NUL" in whole.rejects[0].reason
    identifiers = [{"type": "cookie_id", "value": "a0\x00"}, {"type": "email", "value": "a@b.co"}]
    part = parse_event(event(identifiers=identifiers, traits={"city": "x\x00"}), REGISTRY)
    assert part.event is not None
    assert [i.type for i in part.event.identifiers] == ["email"]
    assert part.event.traits == {}
    assert {r.field for r in part.rejects} >= {"traits"}
    assert all("NUL" in r.reason for r in part.rejects)
