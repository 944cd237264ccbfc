"""The segment rule language: validation with clear places, values only as parameters."""

from __future__ import annotations

from typing import Any

import pytest

from graph.errors import InputError
from graph.profiles.segments import DAY_MS, compile_rule

STRONG = ["email", "phone", "user_id", "loyalty_id", "device_id", "cookie_id"]
NOW = 1_780_000_000_000


def compiled(rule: Any) -> tuple[str, dict[str, Any]]:
    c = compile_rule(rule, strong_types=STRONG, now=NOW)
    return c.expression, c.params


def test_values_are_parameters_never_query_text() -> None:
    evil = "x') RETURN 1 //"
    text, params = compiled(
        {
            "and": [
                {"trait": evil, "op": "=", "value": evil},
                {"source": evil},
                {"events": {"type": evil, "source": [evil]}, "op": ">=", "value": 1},
                {"field": "rfm.score", "op": "=", "value": evil},
            ]
        }
    )
    assert evil not in text
    assert "trait_" + evil in params.values()
    assert evil in params.values()


def test_relative_and_absolute_times() -> None:
    text, params = compiled(
        {
            "and": [
                {"field": "last_purchase", "op": ">=", "value": {"days_ago": 30}},
                {"not": {"field": "last_purchase", "op": ">=", "value": "2026-01-01"}},
                {
                    "events": {"within_days": 7, "until": "2026-01-02T00:00:00Z"},
                    "op": ">",
                    "value": 0,
                },
            ]
        }
    )
    values = list(params.values())
    assert NOW - 30 * DAY_MS in values
    assert 1_767_225_600_000 in values  # 2026-01-01T00:00:00Z
    assert NOW - 7 * DAY_MS in values and 1_767_312_000_000 in values
    assert text.count("NOT") == 1 and " AND " in text


def test_comparisons_on_missing_values_are_false_not_null() -> None:
    text, _ = compiled({"field": "purchase_total", "op": ">=", "value": 100})
    assert text.startswith("coalesce(") and text.endswith(", false)")


def test_distinct_prefixes_let_rules_share_a_query() -> None:
    a = compile_rule({"has": "email"}, strong_types=STRONG, now=NOW, prefix="s0_")
    b = compile_rule({"has": "phone"}, strong_types=STRONG, now=NOW, prefix="s1_")
    assert not set(a.params) & set(b.params)


@pytest.mark.parametrize(
    "rule, place, words",
    [
        ([], "rule", "JSON object"),
        ({}, "rule", "exactly one of"),
        ({"and": []}, "rule.and", "non-empty list"),
        ({"and": [{"has": "email"}, {"fild": "x"}]}, "rule.and[1]", "exactly one of"),
        (
            {"or": [{"not": {"field": "size", "op": "~", "value": 1}}]},
            "rule.or[0].not.op",
            "op must",
        ),
        ({"field": "age", "op": "=", "value": 1}, "rule.field", "unknown field 'age'"),
        ({"field": "size", "op": ">", "value": "big"}, "rule.value", "expected a number"),
        ({"field": "size", "op": ">"}, "rule.value", "needs a value"),
        ({"field": "rfm.group", "op": "=", "value": "VIP"}, "rule.value", "unknown RFM group"),
        ({"field": "rfm.group", "op": ">", "value": "Lost"}, "rule.op", "op must"),
        ({"field": "rfm.recency", "op": "=", "value": 7}, "rule.value", "1 to 5"),
        ({"field": "rfm.group", "op": "in", "value": []}, "rule.value", "non-empty list"),
        ({"field": "rfm.group", "op": "in", "value": ["Lost", "VIP"]}, "rule.value[1]", "unknown"),
        ({"field": "size", "op": "exists", "value": 1}, "rule.value", "takes no value"),
        ({"field": "last_seen", "op": ">", "value": "last week"}, "rule.value", "ISO 8601"),
        ({"field": "last_seen", "op": ">", "value": {"weeks": 1}}, "rule.value", "days_ago"),
        ({"has": "ip"}, "rule.has", "profile members are of types"),
        ({"has": "email", "op": "="}, "rule", "unknown key(s) ['op']"),
        ({"source": []}, "rule.source", "non-empty list"),
        ({"trait": "", "op": "=", "value": 1}, "rule.trait", "non-empty string"),
        ({"trait": "city", "op": "=", "value": {"a": 1}}, "rule.value", "string, number"),
        ({"events": {"kind": "x"}, "op": ">", "value": 1}, "rule.events", "unknown key"),
        (
            {"events": {"within_days": 0}, "op": ">", "value": 1},
            "rule.events.within_days",
            "positive",
        ),
        (
            {"events": {"within_days": 3, "since": "2026-01-01"}, "op": ">", "value": 1},
            "rule.events",
            "either",
        ),
        ({"events": {}, "op": "in", "value": 1}, "rule.op", "compares a count"),
        ({"events": {}, "op": ">", "value": 1.5}, "rule.value", "whole number"),
        ({"field": "size", "op": ">", "value": float("nan")}, "rule.value", "expected a number"),
        ({"not": {"has": "email"}, "and": []}, "rule", "takes no other keys"),
    ],
)
def test_mistakes_name_their_place(rule: Any, place: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        compiled(rule)
    assert caught.value.field == place
    assert words in str(caught.value)


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"has": "email"}
    for _ in range(20):
        deep = {"not": deep}
    with pytest.raises(InputError, match="levels deep"):
        compiled(deep)
    with pytest.raises(InputError, match="at most 100 conditions"):
        compiled({"or": [{"has": "email"}] * 101})
