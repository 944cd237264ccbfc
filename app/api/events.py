"""``POST /v1/events``: ingest a batch; per-event errors, valid events kept."""

from __future__ import annotations

import logging
from typing import Any

from flask_smorest import Blueprint

from app.access.guard import requires
from app.api import resources
from app.api.schemas import EventBatchSchema, IngestResultSchema
from graph.errors import StoreUnavailable
from graph.resolution import update_profiles

logger = logging.getLogger(__name__)

#: seconds a request waits for a running resolve before answering without its update
REALTIME_LOCK_WAIT = 30.0
#: seconds Redis keeps a real-time update's lock if its holder dies (kill -9) mid-update
REALTIME_LOCK_HOLD = 20.0

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
    """
    events = body["events"]
    res = resources()
    report = res.ingester(collect_touched=True).ingest_objects(events)
    profiles = None
    if res.config.realtime_updates and report.touched:
        try:
            updated = update_profiles(
                res.store,
                res.registry,
                report.touched,
                res.resolve_settings(),
                lock=res.resolve_lock(wait=REALTIME_LOCK_WAIT, hold=REALTIME_LOCK_HOLD),
            )
            profiles = updated.to_dict() if updated else None
        except StoreUnavailable as e:
            # the events are stored; their profiles follow on a retry of this
            # request (duplicates update profiles too) or at the next resolve
            logger.warning("real-time profile update skipped: %s", e)
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
        "profiles": profiles,
    }
