"""``/v1/keys`` and ``/v1/audit``: API keys and the audit trail (``admin`` scope)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.access import keys
from app.access.audit import MAX_PAGE, audit_trail
from app.api import resources
from app.api.guard import requires
from graph.ingest.events import format_ts

blp = Blueprint("access", __name__, description="API keys and the audit trail")


class KeySchema(Schema):
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    status = fields.String(metadata={"description": "active, revoked or expired"})
    created_at = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)
    last_used_at = fields.String(allow_none=True, metadata={"description": "to the minute"})


class KeyListSchema(Schema):
    keys = fields.List(fields.Nested(KeySchema), required=True)


class KeyInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    scopes = fields.List(
        fields.String(validate=validate.OneOf(list(keys.SCOPES))),
        required=True,
        validate=validate.Length(min=1, max=len(keys.SCOPES)),
    )
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      default_timezone=UTC)  # fmt: skip


class NewKeySchema(KeySchema):
    key = fields.String(required=True, metadata={"description": "shown this once only"})


class AuditQuerySchema(Schema):
    since = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    key = fields.String(load_default=None, validate=validate.Length(max=64))
    after = fields.String(load_default=None, validate=validate.Regexp(r"^\d{1,20}-\d{1,20}$"))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class AuditEntrySchema(Schema):
    id = fields.String(required=True)
    at = fields.String(required=True)
    key = fields.String(required=True)
    action = fields.String(required=True)
    target = fields.String(required=True)
    status = fields.Integer(allow_none=True)
    request_id = fields.String()
    detail = fields.Dict()


class AuditPageSchema(Schema):
    entries = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next = fields.String(allow_none=True, metadata={"description": "cursor: pass as `after`"})


def key_view(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "scopes": list(record.scopes),
        "status": keys.status_of(record),
        "created_at": format_ts(record.created_at),
        "expires_at": format_ts(record.expires_at),
        "revoked_at": format_ts(record.revoked_at),
        "last_used_at": format_ts(record.last_used_at),
    }


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


@blp.route("/keys")
@requires("admin")
@blp.response(200, KeyListSchema)
def list_keys() -> dict[str, Any]:
    """Every API key: name, scopes, status, created, last used, expiry (never the key)."""
    return {"keys": [key_view(r) for r in keys.list_keys(resources().store)]}


@blp.route("/keys", methods=["POST"])
@requires("admin")
@blp.arguments(KeyInputSchema)
@blp.response(201, NewKeySchema)
@blp.alt_response(422, description="Name taken or invalid, unknown scope, expiry in the past")
def create_key(body: dict[str, Any]) -> dict[str, Any]:
    """Create a key; the answer holds the key, which is never shown again."""
    res = resources()
    key, record = keys.create_key(res.store, body["name"], body["scopes"],
                                  expires_at=_ms(body["expires_at"]))  # fmt: skip
    g.audit_detail = {"created": record.name, "scopes": list(record.scopes)}
    return {**key_view(record), "key": key}


@blp.route("/keys/<string:name>", methods=["DELETE"])
@requires("admin")
@blp.response(200, KeySchema)
@blp.alt_response(404, description="No active key of that name")
def revoke_key(name: str) -> dict[str, Any]:
    """Revoke a key at once (its record stays, for the audit trail)."""
    res = resources()
    keys.revoke_key(res.store, name)
    record = next(r for r in res.store.api_keys() if r.name == name)
    return key_view(record)


@blp.route("/audit")
@requires("admin")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
def audit(query: dict[str, Any]) -> dict[str, Any]:
    """The audit trail, oldest first: which key did what to which customer, and when
    (identifier values masked). Page with `after` = the previous page's `next`."""
    res = resources()
    entries, cursor = audit_trail(res).entries(since=_ms(query["since"]), key=query["key"],
                                    after=query["after"], limit=query["limit"])  # fmt: skip
    return {"entries": entries, "next": cursor}
