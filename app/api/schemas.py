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
    profiles = fields.Nested(
        lambda: ResolveSummarySchema(),
        allow_none=True,
        metadata={"description": "What the real-time profile update changed (null: none ran)."},
    )


class ProfileIdentifierSchema(Schema):
    type = fields.String()
    value = fields.String()
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    event_count = fields.Integer()
    quarantined = fields.Boolean()
    sources = fields.List(
        fields.String(), metadata={"description": "Sources of the events it was seen in."}
    )


class EvidenceSchema(Schema):
    type = fields.String()
    value = fields.String()
    count = fields.Integer(metadata={"description": "Observations together with members."})
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)


class TraitSchema(Schema):
    value = fields.Raw()
    observed_at = fields.String(allow_none=True)


class FactsSchema(Schema):
    purchase_count = fields.Integer()
    purchase_total = fields.Float()
    purchase_avg = fields.Float(allow_none=True)
    last_purchase = fields.String(allow_none=True)
    currencies = fields.List(fields.String())
    events_by_type = fields.Dict(keys=fields.String(), values=fields.Integer())
    traits = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(TraitSchema),
        metadata={"description": "Latest value of each trait and when it was observed."},
    )
    facts_at = fields.String(
        allow_none=True, metadata={"description": "When the facts were last recomputed."}
    )


class RfmSchema(Schema):
    recency = fields.Integer(metadata={"description": "1-5, 5 = bought most recently"})
    frequency = fields.Integer(metadata={"description": "1-5, 5 = buys most often"})
    monetary = fields.Integer(metadata={"description": "1-5, 5 = spends most"})
    score = fields.String(metadata={"example": "545"})
    group = fields.String(metadata={"example": "Champions"})
    recency_days = fields.Integer()
    purchases = fields.Integer()
    amount = fields.Float()
    as_of = fields.String()


class SegmentRefSchema(Schema):
    segment_id = fields.String()
    name = fields.String()


class ConfidenceQuerySchema(Schema):
    min_confidence = fields.Float(
        load_default=None,
        validate=validate.Range(0, 1),
        metadata={
            "description": "Leave out links below this confidence (deterministic links 1, "
            "model links their score): 1 = deterministic links only. Default: the "
            "`min_confidence` setting (0: every link)."
        },
    )


class ConfidenceSchema(Schema):
    min_confidence = fields.Float()
    identifiers_left_out = fields.Integer()
    model_links_left_out = fields.Integer()
    facts_of = fields.String(
        metadata={
            "description": "What the facts describe: on a profile read, `the identifiers "
            "shown` (their events alone); on member rows and exports, `the whole profile`. "
            "RFM and segments are always those of the whole profile (they rank stored "
            "profiles)."
        }
    )


class ProfileSchema(Schema):
    profile_id = fields.String()
    household_id = fields.String(
        allow_none=True,
        metadata={"description": "The household it shares a home with (GET /v1/households)."},
    )
    confidence = fields.Nested(ConfidenceSchema)
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
    facts = fields.Nested(FactsSchema)
    rfm = fields.Nested(
        RfmSchema, allow_none=True, metadata={"description": "null: no purchase scored."}
    )
    segments = fields.List(
        fields.Nested(SegmentRefSchema), metadata={"description": "Segments it is in now."}
    )
    split_from = fields.String(
        allow_none=True, metadata={"description": "The profile this one split off, if any."}
    )
    requested_profile_id = fields.String(
        metadata={"description": "Present when the ID asked for was retired by a merge."}
    )
    merged_into = fields.String(
        metadata={
            "description": "Present when the ID asked for was retired: the surviving "
            "profile (this one) it was merged into."
        }
    )


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


class ResolveSummarySchema(Schema):
    identifiers = fields.Integer()
    links = fields.Integer()
    profiles = fields.Integer()
    largest_profile = fields.Integer()
    moved = fields.Integer()
    merged = fields.Integer()
    split = fields.Integer()
    conflicts = fields.Integer()
    quarantined = fields.Integer()
    profiles_deleted = fields.Integer()
    facts_refreshed = fields.Integer(metadata={"description": "Profiles whose facts changed."})
    facts_added = fields.Integer(
        metadata={
            "description": "Of them, profiles whose new events were added to their facts "
            "(the others were computed again from all their events)."
        }
    )
    seconds = fields.Float()


class LineageSchema(Schema):
    profile_id = fields.String()
    status = fields.String(metadata={"description": "active or retired"})
    current_profile_id = fields.String(metadata={"description": "Where this ID leads now."})
    merged_into = fields.String(allow_none=True)
    split_from = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    retired_at = fields.String(allow_none=True)
    merged_from = fields.List(fields.String())
    split_into = fields.List(fields.String())


class ExplainQuerySchema(Schema):
    type = fields.String(required=True)
    value = fields.String(required=True)


class EvidenceDetailSchema(Schema):
    count = fields.Integer()
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    sources = fields.List(fields.String())
    event_ids = fields.List(fields.String())


class ExplainStepSchema(Schema):
    from_ = fields.Nested(IdentifierKeySchema, data_key="from", attribute="from")
    to = fields.Nested(IdentifierKeySchema)
    kind = fields.String(metadata={"description": "deterministic or model"})
    score = fields.Float(allow_none=True, metadata={"description": "Model links: the score."})
    model_version = fields.String(allow_none=True)
    evidence = fields.Nested(EvidenceDetailSchema)


class RefusedSchema(Schema):
    with_ = fields.Nested(IdentifierKeySchema, data_key="with", attribute="with")
    kind = fields.String()
    reason = fields.String()


class ExplainSchema(Schema):
    identifier = fields.Nested(IdentifierKeySchema)
    profile_id = fields.String(allow_none=True)
    household_id = fields.String(
        allow_none=True,
        metadata={"description": "The household of the profile (or of a shared device)."},
    )
    quarantined = fields.Boolean()
    anchor = fields.Nested(IdentifierKeySchema, allow_none=True)
    reason = fields.String()
    path = fields.List(fields.Nested(ExplainStepSchema))
    refused = fields.List(fields.Nested(RefusedSchema))


class StoreFilesSchema(Schema):
    rewritten = fields.List(fields.String(), metadata={"description": "the files rewritten"})
    done = fields.Boolean(metadata={"description": "false: the files still hold erased data"})
    detail = fields.String()


class ErasureSchema(Schema):
    identifiers = fields.List(fields.Nested(IdentifierKeySchema))
    identifier_count = fields.Integer()
    events = fields.Integer()
    orphans_removed = fields.Integer()
    profiles_deleted = fields.List(fields.String())
    profiles_affected = fields.List(fields.String())
    resolved = fields.Nested(ResolveSummarySchema, allow_none=True)
    files = fields.Dict(
        metadata={"description": "lines removed from reject and audience files (files_changed, "
                  "lines_removed)"}
    )  # fmt: skip
    store_files = fields.Nested(
        StoreFilesSchema,
        metadata={"description": "whether the store's files on disk were rewritten without "
                  "the erased data (its write log held it)"},
    )  # fmt: skip


class QuarantineQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=10_000))


class QuarantinedSchema(Schema):
    type = fields.String()
    value = fields.String()
    degree = fields.Integer(metadata={"description": "Distinct identity identifiers linked."})
    quarantined = fields.Boolean()
    override = fields.String(allow_none=True, metadata={"description": "force, release or null"})


class QuarantineListSchema(Schema):
    identifiers = fields.List(fields.Nested(QuarantinedSchema))


class QuarantineOverrideSchema(Schema):
    override = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(["force", "release"]),
        metadata={"description": "force: always quarantine; release: never; null: automatic"},
    )


# -- facts, RFM, segments, exports ------------------------------------------------
class ModelCardSchema(Schema):
    version = fields.String(allow_none=True, metadata={"description": "the model's version"})
    path = fields.String(metadata={"description": "the folder holding the model and its card"})
    card = fields.Dict(
        allow_none=True,
        metadata={"description": "data sizes, features, pair metrics, thresholds with the "
                  "reason for each, calibration, permutation importances, image file names"},
    )  # fmt: skip
    metadata = fields.Dict(metadata={"description": "what was saved with the model"})
    last_failed_train = fields.Dict(
        allow_none=True,
        metadata={"description": "report of the last training that reached no threshold"},
    )
