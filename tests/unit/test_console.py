"""The console's pure parts: type guessing, the segment form, the picture, charts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.console.charts import bar_chart
from app.console.cluster import COLOURS, elements, label_of
from app.console.search import readings
from app.console.segment_form import Row, SegmentForm, form_from_request, form_from_segment
from graph.ingest.events import Identifier
from graph.ingest.identifiers import default_registry

STYLE = Path(__file__).resolve().parents[2] / "docs" / "neo4j" / "style.grass"


def test_the_picture_uses_the_colours_of_the_neo4j_browser_style_sheet() -> None:
    sheet = STYLE.read_text()
    for type_name, (fill, border) in COLOURS.items():
        block = re.search(rf"node\.{label_of(type_name)} \{{(.*?)\}}", sheet, re.S)
        assert block, f"style.grass has no node.{label_of(type_name)}"
        assert f"color: {fill};" in block.group(1)
        assert f"border-color: {border};" in block.group(1)


@pytest.mark.parametrize(("text", "first"), [
    ("(415) 555-0123", "phone"),
    ("  Jane.Doe@Example.COM ", "email"),
    ("6F9619FF-8B86-D011-B42D-00C04FC964FF", "device_id"),
    ("u00000231", "user_id"),
])  # fmt: skip
def test_the_most_likely_reading_comes_first(text: str, first: str) -> None:
    found = readings(default_registry(), text)
    assert found and found[0].type == first
    if first == "phone":
        assert found[0].value == "+14155550123"
    if first == "email":
        assert found[0].value == "jane.doe@example.com"
        assert "phone" not in {r.type for r in found}


def test_a_chosen_type_is_the_only_reading_and_bad_values_have_none() -> None:
    registry = default_registry()
    assert [r.type for r in readings(registry, "774411", "loyalty_id")] == ["loyalty_id"]
    assert readings(registry, "not an e-mail", "email") == []
    assert readings(registry, "   ") == []
    assert all(registry[r.type].strong for r in readings(registry, "10.0.0.1"))


@pytest.mark.parametrize("rule", [
    {"and": [{"field": "purchase_total", "op": ">=", "value": 100}, {"has": "email"}]},
    {"or": [{"field": "rfm.group", "op": "in", "value": ["Champions", "Loyal"]},
            {"trait": "city", "op": "=", "value": "Chicago"}]},
    {"and": [{"field": "last_purchase", "op": ">=", "value": {"days_ago": 30}},
             {"events": {"type": "purchase"}, "op": ">=", "value": 2}, {"source": "pos"}]},
    {"and": [{"field": "household.id", "op": "exists"}]},
])  # fmt: skip
def test_rules_the_rows_can_show_survive_the_form(rule: dict) -> None:  # type: ignore[type-arg]
    form = form_from_segment({"name": "s", "rule": rule})
    assert form.mode == "rows"
    posted: dict[str, str] = {"name": "s", "join": form.join, "mode": "rows"}
    for n, row in enumerate(form.rows):
        posted.update({f"row-{n}-what": row.what, f"row-{n}-name": row.name,
                       f"row-{n}-op": row.op, f"row-{n}-value": row.value})  # fmt: skip
    assert form_from_request(posted).rule() == rule


def test_rules_the_rows_cannot_show_are_edited_as_json() -> None:
    rule = {"and": [{"not": {"has": "email"}}, {"or": [{"has": "phone"}, {"source": "pos"}]}]}
    form = form_from_segment({"name": "s", "rule": rule})
    assert form.mode == "json" and '"not"' in form.rule_json


def test_errors_go_where_the_mistake_is() -> None:
    form = SegmentForm("s", rows=[Row("purchase_total", op=">=", value="1"), Row(),
                                  Row("last_purchase", op="~", value="x")])  # fmt: skip
    assert form.rule() == {"and": [
        {"field": "purchase_total", "op": ">=", "value": 1},
        {"field": "last_purchase", "op": "~", "value": "x"}]}  # fmt: skip
    form.place("rule.and[1].op", "op must be one of …")  # the 2nd *filled* row
    assert form.rows[2].errors == {"op": "op must be one of …"} and not form.rows[0].errors
    form.place("rule.and[0].field", "unknown field")
    assert form.rows[0].errors == {"what": "unknown field"}
    form.place("name", "a segment needs a name")
    assert form.errors["name"]
    form.place("rule", "a rule must be a JSON object")
    assert form.errors["rule"] == "a rule must be a JSON object"
    empty = SegmentForm("s", rows=[Row()])
    empty.place("rule.and", "'and' takes a non-empty list of rules")
    assert empty.errors["rows"] == "add at least one condition"


def test_values_read_as_people_write_them() -> None:
    form = form_from_request({
        "row-0-what": "last_seen", "row-0-op": ">=", "row-0-value": "30 days ago",
        "row-1-what": "rfm.score", "row-1-op": "=", "row-1-value": "555",
        "row-2-what": "trait", "row-2-name": "city", "row-2-op": "=", "row-2-value": "New York",
    })  # fmt: skip
    assert form.rule() == {"and": [
        {"field": "last_seen", "op": ">=", "value": {"days_ago": 30}},
        {"field": "rfm.score", "op": "=", "value": 555},
        {"trait": "city", "op": "=", "value": "New York"}]}  # fmt: skip


def test_the_picture_marks_refused_links_outside_nodes_and_evidence() -> None:
    a, b, c = (
        Identifier("email", "a@x.com"),
        Identifier("user_id", "u1"),
        Identifier("cookie_id", "k"),
    )
    outside, ip = Identifier("device_id", "tablet"), Identifier("ip", "10.0.0.1")
    members = [{"type": i.type, "value": i.value} for i in (a, b, c)]
    observed = [{"a": a, "b": b, "count": 8}, {"a": b, "b": outside, "count": 2, "refused": True}]
    model = [{"a": c, "b": b, "score": 0.997, "model_version": "v1"}]
    refused = [{"a": b, "b": outside, "kind": "limit", "reason": "shared device",
                "b_quarantined": True, "b_profile_id": None}]  # fmt: skip
    evidence = [{"member": a, "weak": ip, "count": 3}]
    picture = elements(members, observed, model, refused, evidence)
    nodes = {e["data"]["id"]: e["data"] for e in picture if "source" not in e["data"]}
    edges = [e["data"] for e in picture if "source" in e["data"]]
    assert sum(n["member"] for n in nodes.values()) == 3
    assert nodes["device_id:tablet"]["quarantined"] and not nodes["device_id:tablet"]["member"]
    assert nodes["ip:10.0.0.1"]["weak"]
    kinds = sorted(e["kind"] for e in edges)
    assert kinds == ["evidence", "model", "observed", "refused"]  # the refused edge once
    refused_edge = next(e for e in edges if e["kind"] == "refused")
    assert refused_edge["reason"] == "shared device"
    assert next(e for e in edges if e["kind"] == "model")["label"] == "1.00"
    heavy = next(e for e in edges if e["kind"] == "observed")
    assert heavy["width"] > 1


def test_bars_scale_to_the_largest_and_small_counts_stay_visible() -> None:
    chart = bar_chart("t", [("a", 1000), ("b", 1), ("c", 0)])
    heights = [b.height for b in chart.bars]
    assert heights[0] > 100 and heights[1] >= 1 and heights[2] == 0
    assert all(b.y + b.height == pytest.approx(chart.axis_y) for b in chart.bars)
    assert bar_chart("empty", []).bars == ()
