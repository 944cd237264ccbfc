"""``POST /v1/events``: ingest a batch; per-event errors, valid events kept."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.api import metrics, resources
from app.api.guard import requires
from app.api.schemas import EventBatchSchema, IngestResultSchema
from app.collection import ingest_batch
from graph.ingest.readers import RawRecord

blp = Blueprint("events", __name__, description="Event ingestion")


@blp.route("", methods=["POST"])
@requires("ingest")
@blp.arguments(EventBatchSchema)
@blp.response(200, IngestResultSchema)
def post_events(body: dict[str, Any]) -> dict[str, Any]:
    """Ingest a batch of events.

    Idempotent by `event_id`: a replayed event is counted as a duplicate and
    changes nothing. Invalid events (or identifiers) are listed in `errors`
    with the reason; the valid ones are stored. Profiles of the identifiers in
    the accepted events are updated before the response (deterministic links,
    with merge protection and quarantine), so a look-up right after sees them;
    `profiles` says what changed (null: no update ran — e.g. a full resolve held
    the lock for 30 s; retrying the request then updates them, as duplicates
    count for the update too). A full `idgraph resolve` rebuilds everything.
    Rejects are also appended to `<data dir>/rejects/api-<date>.jsonl`.
    """
    events = body["events"]
    records = (RawRecord(i, raw=event) for i, event in enumerate(events))
    answer = ingest_batch(resources(), records, received=len(events), source="POST /v1/events")
    metrics().count_events(answer)
    return answer
