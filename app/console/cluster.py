"""The picture of one profile: its identifiers and links as graph elements.

Pure: store rows in, cytoscape.js elements out (``{"data": {...}}`` per node and
edge). Colours are those of the Neo4j Browser style sheet (docs/neo4j/style.grass,
kept equal by tests/unit/test_console.py), so a profile looks the same in both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from graph.ingest.events import Identifier, format_ts

__all__ = ["COLOURS", "elements", "label_of", "node_id"]

#: fill and border colour of each identifier type (docs/neo4j/style.grass)
COLOURS: dict[str, tuple[str, str]] = {
    "email": ("#4C8EDA", "#2870C2"),
    "phone": ("#57C7E3", "#23B3D7"),
    "user_id": ("#8DCC93", "#5DB665"),
    "loyalty_id": ("#F16667", "#EB2728"),
    "device_id": ("#FFC454", "#D7A013"),
    "cookie_id": ("#D9C8AE", "#C0A378"),
    "anonymous_id": ("#C9B79C", "#A88F68"),
    "ip": ("#C990C0", "#B261A5"),
}
#: any other (custom) type: the style sheet's ``node.Identifier``
DEFAULT_COLOUR = ("#68BDF6", "#5CA8DB")


def label_of(type_name: str) -> str:
    """The Neo4j label of a type, as in the style sheet: ``user_id`` → ``UserId``."""
    return "".join(part.capitalize() for part in type_name.split("_"))


def node_id(identifier: Identifier) -> str:
    return f"{identifier.type}:{identifier.value}"


def _node(identifier: Identifier, **data: Any) -> dict[str, Any]:
    fill, border = COLOURS.get(identifier.type, DEFAULT_COLOUR)
    return {
        "data": {
            "id": node_id(identifier),
            "type": identifier.type,
            "value": identifier.value,
            "label": identifier.value
            if len(identifier.value) <= 28
            else identifier.value[:25] + "…",
            "colour": fill,
            "border": border,
            **data,
        }
    }


def _pair(a: Identifier, b: Identifier) -> tuple[str, str]:
    """The two node IDs of a link, in one order whichever way it was read."""
    first, second = sorted((node_id(a), node_id(b)))
    return first, second


def _width(count: int) -> float:
    """Edge width grows with the log of how often two were seen together."""
    return round(1.0 + 1.5 * math.log2(max(1, count)), 2)


def elements(
    members: Iterable[Mapping[str, Any]],
    observed: Iterable[Mapping[str, Any]],
    model_links: Iterable[Mapping[str, Any]],
    refused: Iterable[Mapping[str, Any]],
    evidence: Iterable[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Nodes: the members (``member``), identifiers outside the profile that a refused
    link reaches (with their quarantine and profile), weak evidence when given. Edges:
    ``observed`` (width by count), ``model`` (dashed, with the score), ``refused``
    (with the reason), ``evidence``."""
    nodes: dict[str, dict[str, Any]] = {}
    for m in members:
        identifier = Identifier(m["type"], m["value"])
        nodes[node_id(identifier)] = _node(
            identifier, member=True, quarantined=bool(m.get("quarantined")),
            first_seen=m.get("first_seen"), last_seen=m.get("last_seen"),
            event_count=m.get("event_count", 0),
        )  # fmt: skip
    # a refused link is drawn once, with its reason, instead of its observation edge
    refused_by_pair: dict[tuple[str, str], Mapping[str, Any]] = {}
    for link in refused:
        refused_by_pair.setdefault(_pair(link["a"], link["b"]), link)
    edges: list[dict[str, Any]] = []
    for link in observed:
        a, b = link["a"], link["b"]
        if _pair(a, b) in refused_by_pair:
            continue
        edges.append({"data": {
            "id": f"o|{node_id(a)}|{node_id(b)}", "source": node_id(a), "target": node_id(b),
            "kind": "refused" if link.get("refused") else "observed",
            "count": link["count"], "width": _width(link["count"]),
            "first_seen": format_ts(link.get("first_seen")),
            "last_seen": format_ts(link.get("last_seen")),
            "sources": sorted(link.get("sources") or []),
        }})  # fmt: skip
    for link in model_links:
        a, b = link["a"], link["b"]
        edges.append({"data": {
            "id": f"m|{node_id(a)}|{node_id(b)}", "source": node_id(a), "target": node_id(b),
            "kind": "model", "score": round(float(link["score"]), 4),
            "label": f"{float(link['score']):.2f}", "model_version": link.get("model_version"),
        }})  # fmt: skip
    for (first, second), link in refused_by_pair.items():
        a, b = link["a"], link["b"]
        if node_id(b) not in nodes:
            nodes[node_id(b)] = _node(
                b, member=False, quarantined=bool(link.get("b_quarantined")),
                profile_id=link.get("b_profile_id"),
            )  # fmt: skip
        edges.append({"data": {
            "id": f"r|{first}|{second}", "source": node_id(a), "target": node_id(b),
            "kind": "refused", "reason": link.get("reason"), "refused_as": link.get("kind"),
            "label": "refused",
        }})  # fmt: skip
    for link in evidence:
        member, weak = link["member"], link["weak"]
        if node_id(member) not in nodes:
            continue
        nodes.setdefault(node_id(weak), _node(weak, member=False, weak=True))
        edges.append({"data": {
            "id": f"e|{node_id(member)}|{node_id(weak)}", "source": node_id(member),
            "target": node_id(weak), "kind": "evidence", "count": link["count"],
            "width": _width(link["count"]),
            "first_seen": format_ts(link.get("first_seen")),
            "last_seen": format_ts(link.get("last_seen")),
        }})  # fmt: skip
    return list(nodes.values()) + edges
