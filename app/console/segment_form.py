"""The segment editor's form: condition rows to a rule and back, and where an error
goes. Pure functions.

A row is one condition: a profile field (``last_purchase``, ``rfm.group``…), a
trait, ``has`` an identifier type, a ``source``, or a count of ``events``; an
operator; a value (JSON when it parses — ``30``, ``["Champions", "Loyal"]`` —,
``N days ago`` for a relative time, text otherwise). All rows joined by ``and`` or
``or``. A rule the rows cannot show (nesting, ``not``) is edited as JSON instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EMPTY_ROWS", "Row", "SegmentForm", "form_from_request", "form_from_segment"]

#: blank rows offered below the filled ones
EMPTY_ROWS = 2
_DAYS_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+days?\s+ago\s*$", re.IGNORECASE)
_ERROR_PATH = re.compile(r"^rule\.(?:and|or)\[(\d+)\](?:\.(\w+))?")
#: error path part -> the row's input it belongs to
_INPUT_OF = {"field": "what", "trait": "name", "has": "value", "source": "value",
             "events": "name", "op": "op", "value": "value"}  # fmt: skip


@dataclass
class Row:
    what: str = ""  #: a field name, "trait", "has", "source" or "events"
    name: str = ""  #: the trait's name, or the event type counted
    op: str = ""
    value: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not (self.what or self.name or self.op or self.value)


@dataclass
class SegmentForm:
    name: str = ""
    description: str = ""
    join: str = "and"
    rows: list[Row] = field(default_factory=list)
    #: the rule as JSON text, when it is edited as JSON (``mode == "json"``)
    rule_json: str = ""
    mode: str = "rows"
    errors: dict[str, str] = field(default_factory=dict)

    def rule(self) -> Any:
        """The rule the form describes (a JSON parse error is a ``rule`` error)."""
        if self.mode == "json":
            try:
                return json.loads(self.rule_json)
            except ValueError as e:
                raise RuleTextError(f"the rule is not valid JSON: {e}") from e
        return {self.join: [_condition(r) for r in self.rows if not r.blank]}

    def place(self, path: str | None, message: str) -> None:
        """Put an error where the mistake is: on a row's input, or on the form."""
        if path in ("name", "description"):
            self.errors[path] = message
            return
        match = _ERROR_PATH.match(path or "")
        filled = [r for r in self.rows if not r.blank]
        if self.mode == "rows" and match and int(match.group(1)) < len(filled):
            row = filled[int(match.group(1))]
            row.errors[_INPUT_OF.get(match.group(2) or "", "what")] = message
            return
        if self.mode == "rows" and path == f"rule.{self.join}":
            self.errors["rows"] = "add at least one condition"
            return
        self.errors["rule"] = f"{message} (at {path})" if path and path != "rule" else message

    def with_blank_rows(self) -> SegmentForm:
        self.rows = [r for r in self.rows if not r.blank] + [Row() for _ in range(EMPTY_ROWS)]
        return self


class RuleTextError(ValueError):
    """The JSON rule text does not parse."""


def _value(text: str) -> Any:
    match = _DAYS_AGO.match(text)
    if match:
        days = float(match.group(1))
        return {"days_ago": int(days) if days.is_integer() else days}
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def _condition(row: Row) -> dict[str, Any]:
    if row.what == "has":
        return {"has": row.value.strip()}
    if row.what == "source":
        return {"source": row.value.strip()}
    rule: dict[str, Any]
    if row.what == "trait":
        rule = {"trait": row.name.strip()}
    elif row.what == "events":
        rule = {"events": {"type": row.name.strip()} if row.name.strip() else {}}
    else:
        rule = {"field": row.what}
    rule["op"] = row.op
    if row.op != "exists":
        rule["value"] = _value(row.value)
    return rule


def _row(condition: Any) -> Row | None:
    """The row showing a condition, or None when rows cannot show it."""
    if not isinstance(condition, Mapping):
        return None
    if set(condition) == {"has"}:
        return Row("has", value=str(condition["has"]))
    if set(condition) == {"source"}:
        return Row("source", value=str(condition["source"]))
    value = condition.get("value")
    text = "" if "value" not in condition else (
        f"{value['days_ago']} days ago" if isinstance(value, Mapping) and set(value) == {"days_ago"}
        else value if isinstance(value, str) else json.dumps(value)
    )  # fmt: skip
    op = str(condition.get("op", ""))
    if "field" in condition and set(condition) <= {"field", "op", "value"}:
        return Row(str(condition["field"]), op=op, value=text)
    if "trait" in condition and set(condition) <= {"trait", "op", "value"}:
        return Row("trait", name=str(condition["trait"]), op=op, value=text)
    events = condition.get("events")
    if isinstance(events, Mapping) and set(events) <= {"type"} and set(condition) <= {
        "events", "op", "value"
    }:  # fmt: skip
        return Row("events", name=str(events.get("type", "")), op=op, value=text)
    return None


def form_from_segment(segment: Mapping[str, Any]) -> SegmentForm:
    """The form for a stored segment: rows when they can show its rule, else JSON."""
    rule = segment.get("rule")
    form = SegmentForm(str(segment.get("name", "")), str(segment.get("description", "")))
    form.rule_json = json.dumps(rule, indent=2)
    if isinstance(rule, Mapping) and len(rule) == 1 and ("and" in rule or "or" in rule):
        join = "and" if "and" in rule else "or"
        parts = rule[join]
        rows = [_row(c) for c in parts] if isinstance(parts, list) else [None]
        if all(r is not None for r in rows):
            form.join, form.rows = join, [r for r in rows if r is not None]
            return form.with_blank_rows()
    else:
        row = _row(rule)
        if row is not None:
            form.rows = [row]
            return form.with_blank_rows()
    form.mode = "json"
    return form


def form_from_request(values: Mapping[str, str]) -> SegmentForm:
    """The form as posted (``row-N-what`` … for each row)."""
    form = SegmentForm(
        name=values.get("name", ""),
        description=values.get("description", ""),
        join="or" if values.get("join") == "or" else "and",
        rule_json=values.get("rule_json", ""),
        mode="json" if values.get("mode") == "json" else "rows",
    )
    count = 0
    while f"row-{count}-what" in values and count < 100:
        form.rows.append(Row(
            what=values.get(f"row-{count}-what", ""), name=values.get(f"row-{count}-name", ""),
            op=values.get(f"row-{count}-op", ""), value=values.get(f"row-{count}-value", ""),
        ))  # fmt: skip
        count += 1
    return form
