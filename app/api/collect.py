"""The Segment-compatible tracking API: ``POST /v1/batch``, ``/v1/identify``,
``/v1/track``, ``/v1/page``, ``/v1/screen``, ``/v1/alias``, ``/v1/group``.

Payloads exactly as Segment's (and RudderStack's) clients send them, the API key as
their write key. Each message becomes an idgraph event (graph.ingest.segment_messages) and
takes the path of ``POST /v1/events``: a bad message is rejected with its reason and
the others kept, rejects are recorded, profiles are updated before the answer.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from marshmallow import INCLUDE, Schema, fields

from app.api import metrics, resources
from app.api.guard import requires
from app.api.schemas import IngestResultSchema
from app.collection import ingest_batch
from graph.ingest.events import now_ms
from graph.ingest.readers import RawRecord
from graph.ingest.segment_messages import CALL_TYPES, MAX_MESSAGE_BYTES, translate_records

blp = Blueprint(
    "collect",
    __name__,
    description="Segment-compatible collection: point a Segment or RudderStack client "
    "at idgraph (its host setting), the API key as write key.",
)

MESSAGE = (
    "A Segment-spec message: `type` (in a batch), `messageId`, `userId` and/or "
    "`anonymousId`, `timestamp` / `originalTimestamp` / `sentAt`, `traits`, `event`, "
    "`properties`, `context` (`ip`, `userAgent`, `traits`, `device.id`, "
    "`device.advertisingId`, `library`), `previousId` (alias), `groupId` (group). "
    f"At most {MAX_MESSAGE_BYTES // 1024} KB."
)


class SegmentMessageSchema(Schema):
    """One message; every field optional here: what a message lacks is its own reject."""

    class Meta:
        unknown = INCLUDE

    type = fields.Raw(metadata={"description": "identify, track, page, screen, alias, group"})
    messageId = fields.Raw(metadata={"description": "the event ID (idempotent)"})
    userId = fields.Raw()
    anonymousId = fields.Raw()
    previousId = fields.Raw()
    groupId = fields.Raw()
    event = fields.Raw()
    name = fields.Raw()
    timestamp = fields.Raw()
    originalTimestamp = fields.Raw()
    sentAt = fields.Raw()
    traits = fields.Raw()
    properties = fields.Raw()
    context = fields.Raw()
    integrations = fields.Raw()


class SegmentBatchSchema(Schema):
    class Meta:
        unknown = INCLUDE

    batch = fields.List(
        fields.Raw(metadata={"description": MESSAGE, "type": "object"}),
        required=True,
        metadata={
            "example": [
                {
                    "type": "identify",
                    "messageId": "m-1",
                    "userId": "u-1029",
                    "anonymousId": "a0c2-77",
                    "traits": {"email": "jane.doe@example.com", "name": "Jane"},
                    "context": {"ip": "203.0.113.7"},
                    "timestamp": "2026-03-10T08:48:34Z",
                }
            ]
        },
    )
    sentAt = fields.Raw(metadata={"description": "when the client sent the batch"})
    context = fields.Raw(metadata={"description": "context for every message"})


class SegmentResultSchema(IngestResultSchema):
    success = fields.Boolean(
        required=True, metadata={"description": "true: the request was taken (Segment's answer)"}
    )


def _collect(messages: list[Any], *, sent_at: object, context: object, call: str | None) -> Any:
    res = resources()
    limit = res.config.segment_max_batch_bytes
    size = request.content_length or len(request.get_data(cache=True))
    if size > limit:
        message = (f"the batch is over the limit of {limit:,} bytes (Segment's is 500 KB; "
                   "setting segment_max_batch_bytes): send smaller batches")  # fmt: skip
        abort(400, message=message)
    if isinstance(context, dict):  # the batch's context, under each message's own
        messages = [
            {**m, "context": {**context, **(m.get("context") or {})}}
            if isinstance(m, dict) and isinstance(m.get("context") or {}, dict)
            else m
            for m in messages
        ]
    received = now_ms()
    records = translate_records(
        (RawRecord(i, raw=m) for i, m in enumerate(messages)),
        res.segment_mapping,
        received_ms=received,
        sent_at=sent_at,
        call=call,
    )
    answer = ingest_batch(res, records, received=len(messages), source=request.path)
    metrics().count_events(answer)
    return {"success": True, **answer}


@blp.route("/batch", methods=["POST"])
@requires("ingest", write_key=True)
@blp.arguments(SegmentBatchSchema)
@blp.response(200, SegmentResultSchema)
@blp.alt_response(400, description="The batch is over the size limit (500 KB)")
def batch(body: dict[str, Any]) -> Any:
    """Ingest a batch of Segment messages (what the clients send).

    Each message is one event: its `type` one of identify, track, page, screen, alias,
    group. A message that cannot be used (no `userId` or `anonymousId`, a track without
    `event`, over 32 KB, an impossible time…) is listed in `errors` with its `index`
    and reason; the others are stored and their profiles updated before the answer.
    """
    return _collect(body["batch"], sent_at=body.get("sentAt"), context=body.get("context"),
                    call=None)  # fmt: skip


def _single(call: str) -> Any:
    def view(body: dict[str, Any]) -> Any:
        return _collect([body], sent_at=body.get("sentAt"), context=None, call=call)

    view.__name__ = call
    view.__doc__ = (
        f"One Segment `{call}` call.\n\nThe message as in a batch, its type implied by the "
        "path; the answer as for `/v1/batch`."
    )
    decorated = blp.alt_response(400, description="The message is over the size limit")(view)
    decorated = blp.response(200, SegmentResultSchema)(decorated)
    decorated = blp.arguments(SegmentMessageSchema)(decorated)
    decorated = requires("ingest", write_key=True)(decorated)
    return blp.route(f"/{call}", methods=["POST"])(decorated)


for _call in CALL_TYPES:
    _single(_call)
