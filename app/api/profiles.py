"""``/v1/profiles``: profiles, their lineage, explanations and erasure."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.schemas import (
    ConfidenceQuerySchema,
    ErasureSchema,
    ExplainQuerySchema,
    ExplainSchema,
    LineageSchema,
    ProfileSchema,
)
from app.erasure import erase_profile
from app.explain import explain
from app.profiles import get_profile, profile_lineage

blp = Blueprint("profiles", __name__, description="Customer profiles")


@blp.route("/<string:profile_id>")
@requires("read")
@blp.arguments(ConfidenceQuerySchema, location="query")
@blp.response(200, ProfileSchema)
@blp.alt_response(404, description="No such profile (never existed, or erased)")
def profile(args: dict[str, Any], profile_id: str) -> dict[str, Any]:
    """A profile: member identifiers, weak evidence, activity and latest traits.

    A retired ID (its profile was merged into another) answers 200 with the
    surviving profile, plus `requested_profile_id` (the ID asked for) and
    `merged_into` (the survivor's ID): clients that stored the old ID keep
    working and can update it. With `min_confidence`, the part of the profile that
    stands when links below it are left out (holding its strongest identifier).
    """
    res = resources()
    wanted = args["min_confidence"]
    return get_profile(
        res.store, res.registry, profile_id,
        min_confidence=res.config.min_confidence if wanted is None else wanted,
        settings=res.resolve_settings(), purchase_types=res.config.purchase_types,
    )  # fmt: skip


@blp.route("/<string:profile_id>", methods=["DELETE"])
@requires("admin")
@blp.response(200, ErasureSchema)
@blp.alt_response(404, description="No such active profile")
def delete_profile(profile_id: str) -> dict[str, Any]:
    """Erase a customer (right to be forgotten).

    Removes every identifier of the profile, all events they were seen in and the
    observation edges those supported, the profile and its former IDs. Only
    salted hashes remain, so replaying old events cannot bring the data back.
    """
    return erase_profile(resources(), profile_id)


@blp.route("/<string:profile_id>/lineage")
@requires("read")
@blp.response(200, LineageSchema)
@blp.alt_response(404, description="No such profile")
def lineage(profile_id: str) -> dict[str, Any]:
    """Merges and splits around a profile ID, and the active profile it leads to."""
    return profile_lineage(resources().store, profile_id)


@blp.route("/<string:profile_id>/explain")
@requires("read")
@blp.arguments(ExplainQuerySchema, location="query")
@blp.response(200, ExplainSchema)
@blp.alt_response(404, description="Unknown identifier or profile")
@blp.alt_response(422, description="Invalid value, or the identifier is in another profile")
def explain_identifier(args: dict[str, str], profile_id: str) -> dict[str, Any]:
    """Why an identifier is in this profile: the chain of links to the profile's
    strongest identifier with their evidence, and the links that were refused."""
    res = resources()
    return explain(res.store, res.registry, args["type"], args["value"], profile_id=profile_id)
