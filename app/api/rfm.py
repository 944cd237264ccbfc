"""``/v1/rfm``: recency/frequency/monetary scores, recomputed by a job."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.marketing_schemas import JobAcceptedSchema, RfmRunSchema, RfmSummarySchema
from app.jobs import enqueue_rfm
from app.rfm import rfm_status
from graph.errors import NotFound

blp = Blueprint("rfm", __name__, description="RFM scores")


@blp.route("")
@requires("segments")
@blp.response(200, RfmSummarySchema)
@blp.alt_response(404, description="RFM was never computed")
def summary() -> dict[str, Any]:
    """The last RFM run: reference date, purchasers scored, profiles per group."""
    status = rfm_status(resources())
    if status is None:
        raise NotFound("RFM scores were never computed; POST /v1/rfm or `idgraph rfm`")
    return status


@blp.route("", methods=["POST"])
@requires("segments")
@blp.arguments(RfmRunSchema)
@blp.response(202, JobAcceptedSchema)
def recompute(body: dict[str, Any]) -> dict[str, Any]:
    """Queue a recomputation of every profile's scores as of `as_of` (default: when
    the job runs). Runs on an `idgraph worker`; follow it with `idgraph jobs`."""
    res = resources()
    as_of = body.get("as_of")
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    job_id = enqueue_rfm(
        res.redis,
        res.config.graph_name,
        as_of=int(as_of.timestamp() * 1000) if as_of else None,
    )
    return {"job_id": job_id, "status": "queued", "url": "/v1/rfm"}
