"""Background jobs (rq). Jobs take primitives and build what they need from config.

Timeouts, retries and TTLs live here, in one place (rq's ``defaults.py`` style).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from rq import Queue, Retry

from app.config import Config
from app.resources import connect

__all__ = ["QUEUE_NAME", "enqueue_resolve", "resolve_job"]

logger = logging.getLogger(__name__)

QUEUE_NAME = "idgraph"
RESOLVE_TIMEOUT = 60 * 60  # seconds a resolve may run
RESULT_TTL = 7 * 24 * 3600  # seconds a finished job's result is kept
FAILURE_TTL = 30 * 24 * 3600  # seconds a failed job stays in the failed registry
RETRIES = Retry(max=3, interval=[10, 60, 300])  # transient store errors


def resolve_job() -> dict[str, Any]:
    """Rebuild profiles (the same as ``idgraph resolve``); returns the report."""
    resources = connect(Config.load())
    try:
        from app.linking import resolve_all

        return resolve_all(resources).to_dict()
    finally:
        resources.close()


def enqueue_resolve(connection: redis.Redis) -> str:
    """Queue a resolve for the workers; returns the job ID."""
    job = Queue(QUEUE_NAME, connection=connection).enqueue(
        resolve_job,
        job_timeout=RESOLVE_TIMEOUT,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        retry=RETRIES,
        description="resolve profiles",
    )
    return str(job.id)
