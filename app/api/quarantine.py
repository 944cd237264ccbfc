"""``/v1/quarantine``: identifiers excluded from linking, and overrides."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.schemas import (
    QuarantinedSchema,
    QuarantineListSchema,
    QuarantineOverrideSchema,
    QuarantineQuerySchema,
)
from app.profiles import normalize_query
from graph.errors import NotFound

blp = Blueprint("quarantine", __name__, description="Supernode quarantine")


@blp.route("")
@requires("admin")
@blp.arguments(QuarantineQuerySchema, location="query")
@blp.response(200, QuarantineListSchema)
def list_quarantine(args: dict[str, int]) -> dict[str, Any]:
    """Quarantined identifiers (linked to more customers' identifiers than one person
    plausibly has) and manual overrides, most linked first. Decided at each resolve."""
    return {"identifiers": resources().store.quarantine_list(limit=args["limit"])}


@blp.route("/<string:type_name>/<path:value>", methods=["PUT"])
@requires("admin")
@blp.arguments(QuarantineOverrideSchema)
@blp.response(200, QuarantinedSchema)
@blp.alt_response(404, description="Identifier unknown")
def set_override(body: dict[str, Any], type_name: str, value: str) -> dict[str, Any]:
    """Force an identifier into quarantine, release it, or (null) let the thresholds
    decide. Takes effect at the next resolve (or real-time update touching it)."""
    res = resources()
    identifier = normalize_query(res.registry, type_name, value)
    if not res.store.set_quarantine_override(identifier, body["override"]):
        raise NotFound(f"no {identifier.type} identifier with that value has been seen")
    record = res.store.identifier(identifier)
    return {
        "type": identifier.type,
        "value": identifier.value,
        "degree": record.degree if record else 0,
        "quarantined": bool(record and record.quarantined),
        "override": body["override"],
    }
