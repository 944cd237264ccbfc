"""``/v1/model``: the link model's card (data, features, curves, importances, thresholds)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.schemas import ModelCardSchema
from app.linking import model_card

blp = Blueprint("model", __name__, description="The link model")


@blp.route("")
@requires("read")
@blp.response(200, ModelCardSchema)
@blp.alt_response(404, description="No model was trained for this graph")
def card() -> dict[str, Any]:
    """The current link model's card: the data it learned from, its features,
    out-of-fold pair metrics, calibration, permutation importances, each threshold
    and why it was chosen, and the report of a later training that failed (the
    model is then kept)."""
    return model_card(resources())
