"""``/v1/exports``: audience files written by background workers."""

from __future__ import annotations

from typing import Any

from flask import Response, send_file
from flask_smorest import Blueprint

from app.api import resources
from app.api.guard import requires
from app.api.marketing_schemas import ExportInputSchema, ExportListSchema, ExportSchema
from app.export_jobs import export_status, finished_export_file, list_exports, start_export

blp = Blueprint("exports", __name__, description="Audience exports (rq jobs)")


@blp.route("", methods=["POST"])
@requires("segments")
@blp.arguments(ExportInputSchema)
@blp.response(202, ExportSchema)
@blp.alt_response(404, description="No such segment")
def create_export(body: dict[str, Any]) -> dict[str, Any]:
    """Queue an export of a segment's current members; answers at once with the
    export's ID. Follow it with `GET /v1/exports/{export_id}` (an `idgraph worker`
    must be running)."""
    return start_export(resources(), body["segment_id"], body["format"], body["traits"],
                        min_confidence=body["min_confidence"],
                        household=body["household"])  # fmt: skip


@blp.route("")
@requires("segments")
@blp.response(200, ExportListSchema)
def exports() -> dict[str, Any]:
    """Recent exports of this graph, newest first."""
    return {"exports": list_exports(resources())}


@blp.route("/<string:export_id>")
@requires("segments")
@blp.response(200, ExportSchema)
@blp.alt_response(404, description="Unknown export, or expired")
def export(export_id: str) -> dict[str, Any]:
    """Status and progress; `download_url` once the file is complete. A failed
    export says why in `error`; transient failures are retried first (status
    `scheduled`)."""
    return export_status(resources(), export_id)


@blp.route("/<string:export_id>/file")
@requires("segments")
@blp.response(200, description="The complete file (CSV or JSON Lines)")
@blp.alt_response(404, description="Unknown export, or not finished")
def download(export_id: str) -> Response:
    """The finished file. Never a partial one: until the job has finished this is 404."""
    path, name = finished_export_file(resources(), export_id)
    mimetype = "application/x-ndjson" if name.endswith(".jsonl") else "text/csv"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)
