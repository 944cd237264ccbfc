"""``/v1/identifiers/{type}/{value}``: who is this identifier; erase it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.schemas import ConfidenceQuerySchema, ErasureSchema, LookupSchema
from app.erasure import erase_identifier
from app.profiles import lookup_identifier_json

blp = Blueprint("identifiers", __name__, description="Identifier look-up and erasure")


@blp.route("/<string:type_name>/<path:value>/profile")
@requires("read")
@blp.arguments(ConfidenceQuerySchema, location="query")
@blp.response(200, LookupSchema)
@blp.alt_response(404, description="Identifier unknown, weak, quarantined or not yet resolved")
@blp.alt_response(422, description="Unknown type or invalid value")
def identifier_profile(args: dict[str, Any], type_name: str, value: str) -> Response:
    """The profile an identifier belongs to.

    The value is normalized like ingested values, so `(415) 555-0123` finds
    `+14155550123` and ` Jane.Doe@Example.com` finds `jane.doe@example.com`. With
    `min_confidence`, the profile as it stands when links below it are left out:
    the part holding this identifier.
    """
    # the answer is built around the profile's ready document as stored, not dumped
    # through LookupSchema (the same JSON: tests/integration/test_serving.py)
    res = resources()
    wanted = args["min_confidence"]
    after: list[Callable[[], None]] = []  # a stale profile's save, once answered
    text = lookup_identifier_json(
        res.store, res.registry, type_name, value,
        min_confidence=res.config.min_confidence if wanted is None else wanted,
        settings=res.resolve_settings(), purchase_types=res.config.purchase_types,
        later=after.append,
    )  # fmt: skip
    response = Response(text, mimetype="application/json")
    for call in after:
        response.call_on_close(call)
    return response


@blp.route("/<string:type_name>/<path:value>", methods=["DELETE"])
@requires("admin")
@blp.response(200, ErasureSchema)
@blp.alt_response(404, description="Identifier unknown")
@blp.alt_response(422, description="Unknown type or invalid value")
def delete_identifier(type_name: str, value: str) -> dict[str, Any]:
    """Erase one identifier: it, the events it was seen in, and what only they
    supported. Its profile is re-resolved and may split; a salted hash keeps
    replayed events from bringing it back."""
    return erase_identifier(resources(), type_name, value)
