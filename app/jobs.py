"""Background jobs (rq). Jobs take primitives and build what they need from config.

Timeouts, retries and TTLs live here, in one place (rq's ``defaults.py`` style).
A job retries only on errors that say they are transient (the store or Redis
unreachable, a worker that died under it); a mistake in the request fails at once
and lands in rq's failed registry with the reason.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue, Retry, get_current_job
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.timeouts import JobTimeoutException

from app.audiences import export_path, write_audience
from app.config import Config
from app.resources import Resources, connect
from graph.errors import IdgraphError, StoreUnavailable

__all__ = [
    "EXPORT_TIMEOUT",
    "QUEUE_NAME",
    "enqueue_export",
    "enqueue_resolve",
    "enqueue_rfm",
    "export_job",
    "recent_jobs",
    "resolve_job",
    "rfm_job",
]

logger = logging.getLogger(__name__)

QUEUE_NAME = "idgraph"
RESOLVE_TIMEOUT = 60 * 60  # seconds a resolve may run
RFM_TIMEOUT = 60 * 60  # seconds an RFM recomputation may run
EXPORT_TIMEOUT = 2 * 60 * 60  # seconds an audience export may run
RESULT_TTL = 7 * 24 * 3600  # seconds a finished job's result is kept
FAILURE_TTL = 30 * 24 * 3600  # seconds a failed job stays in the failed registry
RETRY_INTERVALS = [10, 60, 300]  # seconds before each retry of a transient failure
EXPORT_PAGE_SIZE = 1000  # members an export reads and writes at a time
#: progress is saved to the job at most this often (seconds)
PROGRESS_EVERY = 1.0


def retries() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


@contextmanager
def job_resources(graph_name: str | None = None) -> Iterator[Resources]:
    """The worker's resources (its config from the environment), for one job.

    A failure that is not transient (:class:`IdgraphError` other than
    :class:`StoreUnavailable`, or running out of time) clears the job's remaining
    retries: retrying cannot help. Everything else (Redis/store down, timeouts, a killed
    worker) keeps rq's retries.
    """
    overrides = {"graph_name": graph_name} if graph_name else None
    try:
        resources = connect(Config.load(overrides=overrides))
        try:
            yield resources
        finally:
            resources.close()
    except IdgraphError as e:
        if not e.retryable:
            _no_retry()
        raise
    except JobTimeoutException:
        _no_retry()  # it would run out of time again
        raise


def _no_retry() -> None:
    job = get_current_job()
    if job is not None:
        job.retries_left = 0


def resolve_job(full: bool = False) -> dict[str, Any]:
    """Resolve profiles (the same as ``idgraph resolve [--full]``); returns the report."""
    with job_resources() as resources:
        from app.linking import resolve_all

        return resolve_all(resources, full=full).to_dict()


def rfm_job(graph_name: str | None = None, as_of: int | None = None) -> dict[str, Any]:
    """Recompute RFM scores as of ``as_of`` (epoch ms; None: now); returns the summary."""
    with job_resources(graph_name) as resources:
        from app.rfm import run_rfm

        return run_rfm(resources, as_of=as_of)


def export_job(
    export_id: str,
    segment_id: str,
    fmt: str,
    graph_name: str | None = None,
    traits: list[str] | None = None,
    page_size: int = EXPORT_PAGE_SIZE,
    min_confidence: float = 0.0,
    household: bool = False,
) -> dict[str, Any]:
    """Write a segment's audience file (``page_size`` members a write); progress in
    the job's meta, the file's name, rows and checksum as the result. Killed mid-way,
    the job leaves only a ``.partial`` file, which the retry overwrites."""

    job = get_current_job()
    with job_resources(graph_name) as resources:
        total = None
        if job is not None:
            from app.segments import count_members

            total = count_members(resources, segment_id)["count"]
            job.meta.update(progress={"rows": 0, "skipped": 0, "members": 0, "total": total})
            job.save_meta()
        last = [0.0]

        def progress(rows: int, skipped: int, seen: int) -> None:
            if job is None or time.monotonic() - last[0] < PROGRESS_EVERY:
                return
            last[0] = time.monotonic()
            job.meta["progress"] = {
                "rows": rows,
                "skipped": skipped,
                "members": seen,
                "total": total,
            }
            job.save_meta()

        result = write_audience(
            resources,
            segment_id,
            fmt,
            export_path(resources, export_id, fmt),
            traits=traits or [],
            page_size=page_size,
            min_confidence=min_confidence,
            household=household,
            progress=progress,
        )
        if job is not None:
            job.meta["progress"] = {
                "rows": result.rows,
                "skipped": result.skipped,
                "members": result.rows + result.skipped,
                "total": total,
            }
            job.save_meta()
        return result.to_dict()


def enqueue_resolve(connection: redis.Redis, *, full: bool = False) -> str:
    """Queue a resolve for the workers; returns the job ID."""
    return _enqueue(connection, resolve_job, RESOLVE_TIMEOUT, "resolve profiles", kind="resolve",
                    kwargs={"full": full})  # fmt: skip


def enqueue_rfm(connection: redis.Redis, graph_name: str, as_of: int | None = None) -> str:
    """Queue an RFM recomputation; returns the job ID."""
    return _enqueue(
        connection,
        rfm_job,
        RFM_TIMEOUT,
        "recompute RFM scores",
        kind="rfm",
        graph=graph_name,
        kwargs={"graph_name": graph_name, "as_of": as_of},
    )


def enqueue_export(
    connection: redis.Redis,
    graph_name: str,
    segment_id: str,
    fmt: str,
    traits: list[str] | None = None,
    page_size: int = EXPORT_PAGE_SIZE,
    timeout: int = EXPORT_TIMEOUT,
    min_confidence: float = 0.0,
    household: bool = False,
) -> str:
    """Queue an audience export; returns its ID (also the rq job ID)."""
    export_id = "exp_" + uuid.uuid4().hex[:20]
    kwargs = {
        "export_id": export_id,
        "segment_id": segment_id,
        "fmt": fmt,
        "graph_name": graph_name,
        "traits": traits or [],
        "page_size": page_size,
        "min_confidence": min_confidence,
        "household": household,
    }
    return _enqueue(
        connection,
        export_job,
        timeout,
        f"export segment {segment_id} as {fmt}",
        kind="export",
        graph=graph_name,
        kwargs=kwargs,
        job_id=export_id,
        meta={
            "segment_id": segment_id,
            "format": fmt,
            "traits": traits or [],
            "min_confidence": min_confidence,
            "household": household,
        },
    )


def _enqueue(
    connection: redis.Redis,
    func: Callable[..., Any],
    timeout: int,
    description: str,
    *,
    kind: str,
    graph: str | None = None,
    kwargs: dict[str, Any] | None = None,
    job_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> str:
    with _redis_errors():
        job = Queue(QUEUE_NAME, connection=connection).enqueue(
            func,
            kwargs=kwargs or {},
            job_id=job_id,
            job_timeout=timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            retry=retries(),
            description=description,
            meta={"kind": kind, "graph": graph, **(meta or {})},
        )
    return str(job.id)


#: the IDs rq accepts (rq.job.validate_job_id)
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")


@contextmanager
def _redis_errors() -> Iterator[None]:
    """Redis down is a retryable :class:`StoreUnavailable` (503, exit 4), not a crash."""
    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
        raise StoreUnavailable(f"Redis (the job queue) is unreachable: {e}") from e


def fetch_job(connection: redis.Redis, job_id: str) -> Job | None:
    """The job, or None when there is none of that ID (also for IDs rq cannot hold)."""
    if not JOB_ID.fullmatch(job_id):
        return None
    with _redis_errors():
        return Queue(QUEUE_NAME, connection=connection).fetch_job(job_id)


def job_summary(job: Job) -> dict[str, Any]:
    """What a person wants to know about a job (``idgraph jobs``, the API)."""
    status = job.get_status(refresh=False)
    state = str(getattr(status, "value", status))
    error = None
    if state in ("failed", "stopped"):
        result = job.latest_result()
        error = _last_line(result.exc_string if result is not None else job.exc_info)
    return {
        "id": job.id,
        "kind": job.meta.get("kind", job.func_name),
        "description": job.description,
        "status": state,
        "enqueued_at": _iso(job.enqueued_at),
        "started_at": _iso(job.started_at),
        "ended_at": _iso(job.ended_at),
        "retries_left": job.retries_left,
        "progress": job.meta.get("progress"),
        "error": error,
    }


def recent_jobs(connection: redis.Redis, limit: int = 20) -> list[dict[str, Any]]:
    """Jobs queued, running, scheduled, deferred, finished and failed, newest first."""
    with _redis_errors():
        return _recent_jobs(connection, limit)


def _recent_jobs(connection: redis.Redis, limit: int) -> list[dict[str, Any]]:
    queue = Queue(QUEUE_NAME, connection=connection)
    ids: list[str] = list(queue.get_job_ids())
    for registry in (
        StartedJobRegistry,
        ScheduledJobRegistry,
        DeferredJobRegistry,
        FinishedJobRegistry,
        FailedJobRegistry,
    ):
        ids += registry(queue=queue).get_job_ids()
    jobs = [j for j in Job.fetch_many(list(dict.fromkeys(ids)), connection=connection) if j]
    epoch = datetime.min.replace(tzinfo=UTC)
    jobs.sort(key=lambda j: _aware(j.enqueued_at) or epoch, reverse=True)
    return [job_summary(j) for j in jobs[:limit]]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat().replace("+00:00", "Z") if aware else None


def _last_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None
