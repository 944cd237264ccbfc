"""``POST /v1/events``: ingest a batch; per-event errors, valid events kept."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import resources
from app.api.schemas import EventBatchSchema, IngestResultSchema

blp = Blueprint("events", __name__, description="Event ingestion")


@blp.route("", methods=["POST"])
@blp.arguments(EventBatchSchema)
@blp.response(200, IngestResultSchema)
def post_events(body: dict[str, Any]) -> dict[str, Any]:
    """Ingest a batch of events.

    Idempotent by `event_id`: a replayed event is counted as a duplicate and
    changes nothing. Invalid events (or identifiers) are listed in `errors`
    with the reason; the valid ones are stored. Profiles are rebuilt by
    `idgraph resolve`.
    """
    events = body["events"]
    report = resources().ingester().ingest_objects(events)
    errors = []
    for reject in report.rejects:
        row = reject.to_dict()
        row["index"] = row.pop("line")
        errors.append(row)
    return {
        "received": len(events),
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "rejected_parts": report.rejected_parts,
        "errors": errors,
        "errors_truncated": report.rejected + report.rejected_parts > len(errors),
    }
