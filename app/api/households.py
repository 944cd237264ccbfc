"""``/v1/households``: customers who share a home."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.resolution_schemas import HouseholdSchema
from app.households import get_household

blp = Blueprint("households", __name__, description="Households")


@blp.route("/<string:household_id>")
@requires("read")
@blp.response(200, HouseholdSchema)
@blp.alt_response(404, description="No such household")
def household(household_id: str) -> dict[str, Any]:
    """A household: the profiles that share a home (a residential IP over many days
    and nights, or a shared device) and the shared devices whose user cannot be
    decided. A retired ID answers with the household it was merged into, plus
    `requested_household_id` and `merged_into`."""
    return get_household(resources(), household_id)
