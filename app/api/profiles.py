"""``GET /v1/profiles/{profile_id}``."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.schemas import ProfileSchema
from app.profiles import get_profile

blp = Blueprint("profiles", __name__, description="Customer profiles")


@blp.route("/<string:profile_id>")
@blp.response(200, ProfileSchema)
@blp.alt_response(404, description="No such profile")
def profile(profile_id: str) -> dict[str, Any]:
    """A profile: member identifiers, weak evidence, activity and latest traits."""
    res = resources()
    return get_profile(res.store, res.registry, profile_id)
