"""The segment rule language: JSON rules, validated, compiled to a Cypher condition.

A rule is a JSON object; :func:`compile_rule` checks it (every mistake is an
:class:`InputError` naming where in the rule it is) and turns it into a boolean
Cypher expression over the profile ``p``. The expression is assembled only from
fixed fragments, property names from :data:`FIELDS` and ``$parameters``: no
value from the rule is ever written into the query text (trait names included,
read with ``p[$key]``). The query templates that receive it live in ``cypher/``.

Rules (``README.md`` has the reference with examples)::

    {"and": [rule, ...]}   {"or": [rule, ...]}   {"not": rule}
    {"field": "purchase_total", "op": ">=", "value": 100}
    {"field": "last_purchase", "op": ">=", "value": {"days_ago": 30}}
    {"field": "rfm.group", "op": "in", "value": ["Champions", "Loyal"]}
    {"trait": "city", "op": "=", "value": "Paris"}
    {"has": "loyalty_id"}
    {"source": "pos"}                      (or a list: seen in any of them)
    {"events": {"type": "purchase", "within_days": 30}, "op": ">=", "value": 2}

A comparison with a value the profile does not have is false (so is its
``in``/``not_in``); wrap it in ``not`` to include such profiles. ``exists``
takes no value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from graph.errors import InputError
from graph.profiles.facts import trait_property
from graph.profiles.rfm import DAY_MS, GROUPS
from graph.store.records import Condition

__all__ = ["DAY_MS", "FIELDS", "OPERATORS", "Condition", "compile_rule", "rule_summary"]

MAX_LEAVES = 100
MAX_DEPTH = 12
MAX_LIST = 1000

#: rule field -> (profile property, kind)
FIELDS: dict[str, tuple[str, str]] = {
    "first_seen": ("first_seen", "time"),
    "last_seen": ("last_seen", "time"),
    "last_purchase": ("last_purchase", "time"),
    "created_at": ("created_at", "time"),
    "event_count": ("event_count", "number"),
    "purchase_count": ("purchase_count", "number"),
    "purchase_total": ("purchase_total", "number"),
    "purchase_avg": ("purchase_avg", "number"),
    "size": ("size", "number"),
    "rfm.recency": ("rfm_r", "score"),
    "rfm.frequency": ("rfm_f", "score"),
    "rfm.monetary": ("rfm_m", "score"),
    "rfm.recency_days": ("rfm_recency_days", "number"),
    "rfm.score": ("rfm_score", "text"),
    "rfm.group": ("rfm_group", "group"),
    # graph/resolve/households.py: the household's ID and its size in profiles (none:
    # the profile shares no home; `exists` asks whether it does)
    "household.id": ("household_id", "text"),
    "household.size": ("household_size", "number"),
}

#: rule operator -> Cypher operator
OPERATORS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
LIST_OPERATORS = ("in", "not_in")
ORDERED = ("<", "<=", ">", ">=")
EVENT_KEYS = ("type", "source", "within_days", "since", "until")


def compile_rule(
    rule: Any, *, strong_types: Sequence[str], now: int, prefix: str = "s_"
) -> Condition:
    """Validate ``rule`` and compile it (relative times resolved against ``now``, ms).

    ``prefix`` names the parameters, so several compiled rules can share a query.
    Raises :class:`InputError` with ``field`` set to the path of the mistake
    (e.g. ``rule.and[1].op``).
    """
    compiler = _Compiler(strong_types=list(strong_types), now=now, prefix=prefix)
    expression = compiler.node(rule, "rule", 0)
    return Condition(expression, compiler.params)


def rule_summary(rule: Any) -> str:
    """A one-line, human-readable form of a (valid) rule."""
    if not isinstance(rule, Mapping):
        return str(rule)
    if "and" in rule or "or" in rule:
        key = "and" if "and" in rule else "or"
        return "(" + f" {key} ".join(rule_summary(r) for r in rule[key]) + ")"
    if "not" in rule:
        return f"not {rule_summary(rule['not'])}"
    if "has" in rule:
        return f"has {rule['has']}"
    if "source" in rule:
        return f"source {rule['source']}"
    subject = rule.get("field") or (f"trait {rule['trait']}" if "trait" in rule else "events")
    if "events" in rule:
        subject = "events" + "".join(f" {k}={v}" for k, v in dict(rule["events"]).items())
    value = "" if rule.get("op") == "exists" else f" {rule.get('value')!r}"
    return f"{subject} {rule.get('op')}{value}"


class _Compiler:
    def __init__(self, *, strong_types: list[str], now: int, prefix: str) -> None:
        self.strong_types = strong_types
        self.now = now
        self.prefix = prefix
        self.params: dict[str, Any] = {}
        self.leaves = 0

    def param(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return "$" + name

    # -- structure -------------------------------------------------------
    def node(self, rule: Any, path: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise InputError(f"rules nest at most {MAX_DEPTH} levels deep", field=path)
        if not isinstance(rule, Mapping):
            raise InputError("a rule must be a JSON object", field=path)
        logical = [k for k in ("and", "or", "not") if k in rule]
        if logical:
            if len(rule) != 1:
                raise InputError(
                    f"{logical[0]!r} takes no other keys (found {sorted(rule)})", field=path
                )
            key = logical[0]
            if key == "not":
                return f"(NOT {self.node(rule['not'], f'{path}.not', depth + 1)})"
            parts = rule[key]
            if not isinstance(parts, list) or not parts:
                raise InputError(f"{key!r} takes a non-empty list of rules", field=f"{path}.{key}")
            compiled = [self.node(r, f"{path}.{key}[{n}]", depth + 1) for n, r in enumerate(parts)]
            return "(" + f" {key.upper()} ".join(compiled) + ")"
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise InputError(f"a segment rule has at most {MAX_LEAVES} conditions", field=path)
        kinds = [k for k in ("field", "trait", "has", "source", "events") if k in rule]
        if len(kinds) != 1:
            raise InputError(
                "a rule needs exactly one of and, or, not, field, trait, has, source, events"
                f" (found {sorted(rule) or 'nothing'})",
                field=path,
            )
        return getattr(self, f"_{kinds[0]}")(rule, path)

    # -- leaves ------------------------------------------------------------
    def _field(self, rule: Mapping[str, Any], path: str) -> str:
        self._keys(rule, path, ("field", "op", "value"))
        name = rule["field"]
        if name not in FIELDS:
            raise InputError(
                f"unknown field {name!r}; fields: {', '.join(FIELDS)}", field=f"{path}.field"
            )
        prop, kind = FIELDS[name]
        return self._compare(f"p.{prop}", kind, rule, path)

    def _trait(self, rule: Mapping[str, Any], path: str) -> str:
        self._keys(rule, path, ("trait", "op", "value"))
        name = rule["trait"]
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise InputError("a trait name is a non-empty string", field=f"{path}.trait")
        return self._compare(f"p[{self.param(trait_property(name))}]", "trait", rule, path)

    def _has(self, rule: Mapping[str, Any], path: str) -> str:
        self._keys(rule, path, ("has",))
        type_name = rule["has"]
        if type_name not in self.strong_types:
            raise InputError(
                f"unknown identifier type {type_name!r} for 'has'; profile members are of "
                f"types {', '.join(self.strong_types)}",
                field=f"{path}.has",
            )
        return (
            "(size([(p)<-[:BELONGS_TO]-(hi:Identifier) WHERE hi.type = "
            f"{self.param(type_name)} AND NOT coalesce(hi.quarantined, false) | 1]) > 0)"
        )

    def _source(self, rule: Mapping[str, Any], path: str) -> str:
        self._keys(rule, path, ("source",))
        sources = rule["source"]
        sources = [sources] if isinstance(sources, str) else sources
        if (
            not isinstance(sources, list)
            or not sources
            or len(sources) > MAX_LIST
            or not all(isinstance(s, str) and s for s in sources)
        ):
            raise InputError(
                "'source' takes a source name or a non-empty list of them", field=f"{path}.source"
            )
        return f"any(src IN {self.param(sources)} WHERE src IN coalesce(p.sources, []))"

    def _events(self, rule: Mapping[str, Any], path: str) -> str:
        self._keys(rule, path, ("events", "op", "value"))
        spec = rule["events"]
        where = f"{path}.events"
        if not isinstance(spec, Mapping):
            raise InputError(
                "'events' takes an object with any of: " + ", ".join(EVENT_KEYS), field=where
            )
        unknown = sorted(set(spec) - set(EVENT_KEYS))
        if unknown:
            raise InputError(
                f"unknown key(s) {unknown} in 'events'; allowed: {', '.join(EVENT_KEYS)}",
                field=where,
            )
        filters = []
        for key, prop in (("type", "ev.type"), ("source", "ev.source")):
            if key in spec:
                names = [spec[key]] if isinstance(spec[key], str) else spec[key]
                if (
                    not isinstance(names, list)
                    or not names
                    or not all(isinstance(n, str) and n for n in names)
                ):
                    raise InputError(
                        f"'{key}' takes a name or a non-empty list of names", field=f"{where}.{key}"
                    )
                filters.append(f"{prop} IN {self.param(names)}")
        if "within_days" in spec and "since" in spec:
            raise InputError("use either 'within_days' or 'since', not both", field=where)
        if "within_days" in spec:
            days = spec["within_days"]
            if not _number(days) or days <= 0:
                raise InputError(
                    "'within_days' takes a positive number", field=f"{where}.within_days"
                )
            filters.append(f"ev.ts >= {self.param(self.now - int(days * DAY_MS))}")
        if "since" in spec:
            filters.append(f"ev.ts >= {self.param(self._time(spec['since'], f'{where}.since'))}")
        if "until" in spec:
            filters.append(f"ev.ts < {self.param(self._time(spec['until'], f'{where}.until'))}")
        op = rule.get("op")
        if op not in OPERATORS:
            raise InputError(
                f"'events' compares a count: op is one of {', '.join(OPERATORS)}",
                field=f"{path}.op",
            )
        value = rule.get("value")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InputError("the count to compare is a whole number >= 0", field=f"{path}.value")
        condition = " WHERE " + " AND ".join(filters) if filters else ""
        events = (
            f"[(p)<-[:BELONGS_TO]-(:Identifier)-[:SEEN_IN]->(ev:Event){condition} | ev.event_id]"
        )
        distinct = (
            f"reduce(seen = [], x IN {events} | CASE WHEN x IN seen THEN seen ELSE seen + x END)"
        )
        return f"(size({distinct}) {OPERATORS[op]} {self.param(value)})"

    # -- comparisons -------------------------------------------------------
    def _compare(self, subject: str, kind: str, rule: Mapping[str, Any], path: str) -> str:
        op = rule.get("op")
        allowed = [*OPERATORS, *LIST_OPERATORS, "exists"]
        if kind in ("text", "group"):
            allowed = [o for o in allowed if o not in ORDERED]
        if op not in allowed:
            raise InputError(f"op must be one of {', '.join(allowed)}", field=f"{path}.op")
        if op == "exists":
            if "value" in rule:
                raise InputError("'exists' takes no value", field=f"{path}.value")
            return f"({subject} IS NOT NULL)"
        if "value" not in rule:
            raise InputError(f"{op!r} needs a value", field=f"{path}.value")
        value = rule["value"]
        if op in LIST_OPERATORS:
            if not isinstance(value, list) or not value or len(value) > MAX_LIST:
                raise InputError(
                    f"{op!r} takes a non-empty list (at most {MAX_LIST} values)",
                    field=f"{path}.value",
                )
            values = [self._value(v, kind, f"{path}.value[{n}]") for n, v in enumerate(value)]
            negate = "" if op == "in" else "NOT "
            return f"coalesce({negate}{subject} IN {self.param(values)}, false)"
        checked = self._value(value, kind, f"{path}.value")
        if op in ORDERED and isinstance(checked, bool):
            raise InputError(f"{op!r} does not compare true/false", field=f"{path}.value")
        return f"coalesce({subject} {OPERATORS[op]} {self.param(checked)}, false)"

    def _value(self, value: Any, kind: str, path: str) -> Any:
        if kind == "time":
            return self._time(value, path)
        if kind in ("number", "score"):
            if not _number(value):
                raise InputError("expected a number", field=path, value=value)
            if kind == "score" and value not in (1, 2, 3, 4, 5):
                raise InputError("RFM scores are 1 to 5", field=path, value=value)
            return value
        if kind == "group":
            if value not in GROUPS:
                raise InputError(
                    f"unknown RFM group {value!r}; groups: {', '.join(GROUPS)}",
                    field=path,
                    value=value,
                )
            return value
        if kind == "text":
            if not isinstance(value, str):
                raise InputError("expected a string", field=path, value=value)
            return value
        # traits: any JSON scalar
        if isinstance(value, bool | str) or _number(value):
            return value
        raise InputError("a trait compares with a string, number or true/false", field=path)

    def _time(self, value: Any, path: str) -> int:
        """An ISO 8601 time (a date alone is midnight UTC) or ``{"days_ago": N}`` -> ms."""
        if isinstance(value, Mapping):
            if set(value) != {"days_ago"} or not _number(value["days_ago"]):
                raise InputError('a relative time is {"days_ago": number}', field=path, value=value)
            return self.now - int(value["days_ago"] * DAY_MS)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                return int(parsed.timestamp() * 1000)
        raise InputError(
            'expected an ISO 8601 time ("2026-03-01", "2026-03-01T08:00:00Z") or {"days_ago": N}',
            field=path,
            value=value,
        )

    def _keys(self, rule: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
        unknown = sorted(set(rule) - set(allowed))
        if unknown:
            raise InputError(
                f"unknown key(s) {unknown}; this rule takes {', '.join(allowed)}", field=path
            )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
