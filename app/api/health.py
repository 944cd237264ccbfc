"""``GET /health``: does the API reach its store and Redis."""

from __future__ import annotations

from typing import Any

import redis
from flask_smorest import Blueprint

from app.access.guard import public
from app.api import resources
from app.api.schemas import HealthSchema
from graph.errors import StoreUnavailable

blp = Blueprint("health", __name__, description="Liveness and readiness")


@blp.route("/health")
@public
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="Store or Redis unreachable")
def health() -> tuple[dict[str, Any], int]:
    res = resources()
    body = {"status": "ok", "store": "ok", "redis": "ok"}
    try:
        res.store.ping()
    except StoreUnavailable:
        body["store"] = "unavailable"
    try:
        res.redis.ping()
    except (redis.exceptions.RedisError, OSError):
        body["redis"] = "unavailable"
    ok = body["store"] == "ok" and body["redis"] == "ok"
    body["status"] = "ok" if ok else "unavailable"
    return body, 200 if ok else 503
