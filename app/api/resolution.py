"""``/v1/resolve``: what a resolution with other settings would change (a dry run)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.resolution_schemas import HealthReportSchema, PreviewInputSchema, PreviewSchema
from app.linking import graph_health, preview_all

blp = Blueprint("resolve", __name__, description="Resolution dry runs and graph health")


@blp.route("/health")
@requires("read")
@blp.response(200, HealthReportSchema)
@blp.alt_response(404, description="No full resolve recorded its graph health yet")
def health() -> dict[str, Any]:
    """Graph health after the last full resolve: profile-size distribution, the
    largest profiles, quarantine and model-link share, next to the resolve before,
    and the alarms raised (a profile over `health_max_profile_size`, a distribution
    shift over `health_max_distribution_shift`, quarantine growth)."""
    return graph_health(resources())


@blp.route("/preview", methods=["POST"])
@requires("admin")
@blp.arguments(PreviewInputSchema)
@blp.response(200, PreviewSchema)
def preview(body: dict[str, Any]) -> dict[str, Any]:
    """Compute the resolution that would follow from changed settings (with the
    current link model), without writing: profiles that would merge, split or be
    new, identifiers moving, the largest profiles after it and the size
    distribution before and after, with the per-identifier diff (a profile that
    does not exist yet is named by its anchor). It reads the whole graph: seconds
    on a large one. `idgraph resolve --dry-run` does the same, also with another
    model."""
    result = preview_all(resources(), body["settings"])
    limit = body["limit"]
    return {
        "summary": result.summary,
        "diff": result.diff[:limit],
        "diff_rows": len(result.diff),
        "truncated": len(result.diff) > limit,
    }
