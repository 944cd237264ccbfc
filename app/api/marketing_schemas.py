"""Schemas of the marketing operations: segments, RFM runs, jobs and audience exports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import ConfidenceSchema, IdentifierKeySchema
from app.audiences import FORMATS


def min_confidence_field() -> fields.Float:
    """``min_confidence`` of member lists and exports (app/confidence.py)."""
    return fields.Float(
        load_default=0.0,
        validate=validate.Range(0, 1),
        metadata={
            "description": "Each profile's identifiers as they stand without links "
            "below this confidence (1: deterministic links only; 0: every link)."
        },
    )


RULE_DESCRIPTION = (
    "A JSON rule: {and: [...]}, {or: [...]}, {not: rule}, {field, op, value}, "
    "{trait, op, value}, {has: type}, {source: name}, {events: {type, source, "
    "within_days|since, until}, op, value}. Ops: =, !=, <, <=, >, >=, in, not_in, exists. "
    'Times: ISO 8601 or {"days_ago": N}. See the README, "Segments".'
)


class SegmentInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    rule = fields.Raw(
        required=True,
        metadata={
            "description": RULE_DESCRIPTION,
            "example": {
                "and": [
                    {"field": "last_purchase", "op": ">=", "value": {"days_ago": 30}},
                    {"not": {"field": "last_purchase", "op": ">=", "value": {"days_ago": 7}}},
                    {"has": "email"},
                ]
            },
        },
    )


class SegmentSchema(Schema):
    segment_id = fields.String()
    name = fields.String()
    description = fields.String()
    rule = fields.Raw()
    summary = fields.String(metadata={"description": "The rule in words."})
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class SegmentListSchema(Schema):
    segments = fields.List(fields.Nested(SegmentSchema))


class SegmentCountSchema(Schema):
    segment_id = fields.String()
    count = fields.Integer()


class MembersQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    after = fields.String(
        load_default="",
        metadata={"description": "The `next` cursor of the previous page (profile ID order)."},
    )
    min_confidence = min_confidence_field()


class MemberSchema(Schema):
    profile_id = fields.String()
    size = fields.Integer()
    confidence = fields.Nested(
        ConfidenceSchema,
        metadata={"description": "Present when links below min_confidence left identifiers out."},
    )
    identifiers = fields.List(fields.Nested(IdentifierKeySchema))
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    event_count = fields.Integer()
    purchase_count = fields.Integer()
    purchase_total = fields.Float()
    last_purchase = fields.String(allow_none=True)
    rfm_group = fields.String(allow_none=True)


class MembersSchema(Schema):
    segment_id = fields.String()
    members = fields.List(fields.Nested(MemberSchema))
    next = fields.String(
        allow_none=True, metadata={"description": "Cursor of the next page; null at the end."}
    )


class RfmRunSchema(Schema):
    as_of = fields.DateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "Reference date (ISO 8601); default: now."},
    )


class RfmSummarySchema(Schema):
    as_of = fields.String()
    computed_at = fields.String()
    purchasers = fields.Integer()
    cleared = fields.Integer(metadata={"description": "Profiles whose old scores were removed."})
    groups = fields.Dict(keys=fields.String(), values=fields.Integer())
    purchase_types = fields.List(fields.String())


class JobAcceptedSchema(Schema):
    job_id = fields.String()
    status = fields.String()
    url = fields.String(metadata={"description": "Where to follow the job."})


class ExportInputSchema(Schema):
    segment_id = fields.String(required=True)
    format = fields.String(
        required=True,
        validate=validate.OneOf(sorted(FORMATS)),
        metadata={"description": 'See the README, "Audience exports", for the columns.'},
    )
    traits = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "csv/jsonl: traits to include (csv: trait_<name> columns)."},
    )
    min_confidence = min_confidence_field()
    household = fields.Boolean(
        load_default=False,
        metadata={
            "description": "One row per household (profiles sharing a home): "
            "their identifiers together; a member in no household is a row of its own."
        },
    )


class ProgressSchema(Schema):
    rows = fields.Integer()
    skipped = fields.Integer(metadata={"description": "Members without a value the format needs."})
    members = fields.Integer(metadata={"description": "Members processed so far."})
    total = fields.Integer(allow_none=True, metadata={"description": "Members at the start."})


class ExportSchema(Schema):
    export_id = fields.String()
    segment_id = fields.String()
    format = fields.String()
    min_confidence = fields.Float()
    household = fields.Boolean()
    status = fields.String(
        metadata={"description": "queued, started, scheduled (waiting to retry), finished, failed"}
    )
    progress = fields.Nested(ProgressSchema, allow_none=True)
    enqueued_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    ended_at = fields.String(allow_none=True)
    retries_left = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "Why it failed."})
    result = fields.Dict(allow_none=True, metadata={"description": "rows, bytes, sha256, file."})
    download_url = fields.String(
        allow_none=True, metadata={"description": "Present once the file is complete."}
    )


class ExportListSchema(Schema):
    exports = fields.List(fields.Nested(ExportSchema))
