"""``GET /v1/identifiers/{type}/{value}/profile``: who is this identifier."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.schemas import LookupSchema
from app.profiles import lookup_identifier

blp = Blueprint("identifiers", __name__, description="Identifier look-up")


@blp.route("/<string:type_name>/<path:value>/profile")
@blp.response(200, LookupSchema)
@blp.alt_response(404, description="Identifier unknown, weak, or not yet resolved")
@blp.alt_response(422, description="Unknown type or invalid value")
def identifier_profile(type_name: str, value: str) -> dict[str, Any]:
    """The profile an identifier belongs to.

    The value is normalized like ingested values, so `(415) 555-0123` finds
    `+14155550123` and ` Jane.Doe@Example.com` finds `jane.doe@example.com`.
    """
    res = resources()
    return lookup_identifier(res.store, res.registry, type_name, value)
