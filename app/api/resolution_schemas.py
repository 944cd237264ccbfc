"""Schemas of the resolution dry run (``POST /v1/resolve/preview``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import IdentifierKeySchema


class PreviewInputSchema(Schema):
    settings = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 64)),
        values=fields.String(validate=validate.Length(0, 1000)),
        load_default=dict,
        validate=validate.Length(max=50),
        metadata={
            "description": "Settings to change, named as in the configuration file, values "
            'as in the environment: {"profile_limits": "email=1", "handover_days": "10"}.',
            "example": {"profile_limits": "email=1"},
        },
    )
    limit = fields.Integer(
        load_default=1000,
        validate=validate.Range(0, 10000),
        metadata={"description": "Diff rows to return (the summary counts them all)."},
    )


class DiffRowSchema(Schema):
    type = fields.String()
    value = fields.String()
    to = fields.String(allow_none=True)
    new_profile = fields.Boolean()
    gone = fields.Boolean()
    anchor = fields.Nested(IdentifierKeySchema)

    class Meta:
        include = {"from": fields.String(allow_none=True)}


class PreviewSchema(Schema):
    summary = fields.Dict(
        metadata={
            "description": "profiles_before/after, merges (merged: retired → into), splits, "
            "new_profiles, identifiers_moving/new/gone, largest (after the change, with "
            "size_before), sizes (before/after by bucket), quarantined, conflicts, model."
        }
    )
    diff = fields.List(fields.Nested(DiffRowSchema))
    diff_rows = fields.Integer(metadata={"description": "All rows of the diff."})
    truncated = fields.Boolean()


class AlarmSchema(Schema):
    kind = fields.String(metadata={"description": "giant_profile, distribution_shift or "
                                                  "quarantine_growth"})  # fmt: skip
    message = fields.String()
    profile_id = fields.String()
    shift = fields.Float()
    grew = fields.Integer()


class HealthReportSchema(Schema):
    current = fields.Dict(metadata={"description": "at, profiles, sizes (by bucket), largest, "
                                                   "quarantined, identifiers, model_links, "
                                                   "model_link_share"})  # fmt: skip
    previous = fields.Dict(allow_none=True)
    alarms = fields.List(fields.Nested(AlarmSchema))


class HouseholdProfileSchema(Schema):
    profile_id = fields.String()
    size = fields.Integer()


class HouseholdSchema(Schema):
    household_id = fields.String()
    status = fields.String()
    size = fields.Integer(metadata={"description": "Profiles in it."})
    profiles = fields.List(fields.Nested(HouseholdProfileSchema))
    shared_devices = fields.List(fields.Nested(IdentifierKeySchema))
    homes = fields.Integer(metadata={"description": "Home IPs that joined its profiles."})
    split_from = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)
    requested_household_id = fields.String()
    merged_into = fields.String()
