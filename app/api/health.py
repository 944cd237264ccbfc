"""``GET /health``: does the API reach its store and Redis."""

from __future__ import annotations

from typing import Any

import redis
from flask import Response
from flask_smorest import Blueprint

from app.api import metrics, resources
from app.api.guard import public, requires
from app.api.schemas import HealthSchema
from graph.errors import StoreUnavailable

blp = Blueprint("health", __name__, description="Liveness, readiness and metrics")


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


@blp.route("/metrics")
@requires("admin")
@blp.response(
    200,
    content_type="text/plain; version=0.0.4",
    description="The Prometheus text format (app/metrics.py lists what is measured)",
)
def prometheus_metrics() -> Response:
    """Metrics for Prometheus: requests, collected events, graph size, profile sizes,
    quarantine, last resolve and train, jobs."""
    return metrics().scrape()
