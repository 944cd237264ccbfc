"""Audience exports as jobs: start one, follow it, download its file, list them.

The files themselves are written by :mod:`app.audiences` in a worker (:mod:`app.jobs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.audiences import FORMATS, check_format, export_path
from app.erasure_files import erasure_of
from app.jobs import enqueue_export, fetch_job, job_summary, recent_jobs
from app.resources import Resources
from app.segments import segment_condition
from graph.errors import NotFound

__all__ = ["export_status", "finished_export_file", "list_exports", "start_export"]


def start_export(
    res: Resources,
    segment_id: str,
    fmt: str,
    traits: Sequence[str] = (),
    min_confidence: float = 0.0,
    household: bool = False,
) -> dict[str, Any]:
    """Queue an export of the segment (checked to exist and compile first)."""
    check_format(fmt)
    segment_condition(res, segment_id)  # NotFound / InputError now, not in the worker
    export_id = enqueue_export(res.redis, res.config.graph_name, segment_id, fmt,
                               traits=list(traits), min_confidence=min_confidence,
                               household=household)  # fmt: skip
    return export_status(res, export_id)


def export_status(res: Resources, export_id: str) -> dict[str, Any]:
    """Status, progress and (when complete) the download of an export."""
    job = fetch_job(res.redis, export_id)
    if (
        job is None
        or job.meta.get("kind") != "export"
        or job.meta.get("graph") != (res.config.graph_name)
    ):
        raise NotFound(f"no export {export_id!r} (unknown, or expired after its retention)")
    summary = job_summary(job)
    result = job.return_value() if summary["status"] == "finished" else None
    path = export_path(res, export_id, job.meta["format"])
    ready = result is not None and path.is_file()
    if ready and result is not None:
        erased = erasure_of(path)
        if erased:  # erasures removed rows since: the checksum is the file's as it is now
            result = {**result, **erased, "rows": result["rows"] - erased["rows_erased"]}
    return {
        "export_id": export_id,
        "segment_id": job.meta.get("segment_id"),
        "format": job.meta.get("format"),
        "min_confidence": job.meta.get("min_confidence", 0.0),
        "household": job.meta.get("household", False),
        **{
            k: summary[k]
            for k in (
                "status",
                "progress",
                "enqueued_at",
                "started_at",
                "ended_at",
                "retries_left",
                "error",
            )
        },
        "result": result,
        "download_url": f"/v1/exports/{export_id}/file" if ready else None,
    }


def finished_export_file(res: Resources, export_id: str) -> tuple[Path, str]:
    """The complete file of a finished export and its download name; NotFound while
    the export is not finished (a partial file is never handed out)."""
    status = export_status(res, export_id)
    if status["download_url"] is None:
        raise NotFound(f"export {export_id} has no file yet (status: {status['status']})")
    fmt = status["format"]
    return export_path(res, export_id, fmt), f"{export_id}-{fmt}.{FORMATS[fmt].extension}"


def list_exports(res: Resources, limit: int = 50) -> list[dict[str, Any]]:
    jobs = recent_jobs(res.redis, limit=1000)
    ids = [j["id"] for j in jobs if j["kind"] == "export"]
    exports = []
    for export_id in ids:
        try:
            exports.append(export_status(res, export_id))
        except NotFound:  # another graph's export
            continue
        if len(exports) >= limit:
            break
    return exports
