"""Marshmallow schemas of every request and response (they generate the OpenAPI)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

DESCRIPTION_EVENT = (
    "An event as in the JSON Lines format: event_id, timestamp (ISO 8601 with offset), "
    "source, type, identifiers ([{type, value}] or {type: value}), optional context "
    "(user_agent), traits and properties (amount, currency). Each event is validated on its "
    "own; invalid ones are reported in `errors` and the rest are kept."
)


class EventBatchSchema(Schema):
    events = fields.List(
        fields.Raw(metadata={"description": DESCRIPTION_EVENT}),
        required=True,
        validate=validate.Length(min=1, max=10_000),
        metadata={
            "example": [
                {
                    "event_id": "e-1029",
                    "timestamp": "2026-03-10T08:48:34Z",
                    "source": "web",
                    "type": "login",
                    "identifiers": [
                        {"type": "cookie_id", "value": "a011dc2a87"},
                        {"type": "email", "value": " Jane.Doe@Example.com"},
                    ],
                    "context": {"user_agent": "Mozilla/5.0"},
                }
            ]
        },
    )


class EventErrorSchema(Schema):
    index = fields.Integer(metadata={"description": "Position of the event in `events` (0-based)."})
    event_id = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    type = fields.String(allow_none=True, metadata={"description": "Identifier type, if any."})
    value = fields.Raw(allow_none=True)
    reason = fields.String()
    whole_event = fields.Boolean(
        metadata={"description": "True: the event was dropped; false: only this part was."}
    )


class IngestResultSchema(Schema):
    received = fields.Integer()
    accepted = fields.Integer()
    duplicates = fields.Integer(
        metadata={"description": "Already stored or repeated in the batch."}
    )
    rejected = fields.Integer(metadata={"description": "Events dropped whole."})
    rejected_parts = fields.Integer(
        metadata={"description": "Identifiers or fields dropped from accepted events."}
    )
    errors = fields.List(fields.Nested(EventErrorSchema))
    errors_truncated = fields.Boolean()


class ProfileIdentifierSchema(Schema):
    type = fields.String()
    value = fields.String()
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    event_count = fields.Integer()


class EvidenceSchema(Schema):
    type = fields.String()
    value = fields.String()
    count = fields.Integer(metadata={"description": "Observations together with members."})
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)


class ProfileSchema(Schema):
    profile_id = fields.String()
    identifiers = fields.List(fields.Nested(ProfileIdentifierSchema))
    evidence = fields.List(
        fields.Nested(EvidenceSchema),
        metadata={"description": "Weak identifiers (ip) seen with members: not members."},
    )
    event_count = fields.Integer()
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    sources = fields.List(fields.String())
    traits = fields.Dict()
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class IdentifierKeySchema(Schema):
    type = fields.String()
    value = fields.String()


class LookupSchema(Schema):
    identifier = fields.Nested(IdentifierKeySchema)
    profile = fields.Nested(ProfileSchema)


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok or unavailable"})
    store = fields.String()
    redis = fields.String()
