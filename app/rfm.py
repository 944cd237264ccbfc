"""RFM recomputation (CLI, API and the rq job): scores kept on the profiles."""

from __future__ import annotations

from typing import Any

from app.resources import Resources
from graph.ingest.events import format_ts, now_ms
from graph.profiles.rfm import compute_rfm
from graph.progress import Progress, no_progress

__all__ = ["rfm_status", "run_rfm"]


def run_rfm(
    res: Resources, *, as_of: int | None = None, progress: Progress = no_progress
) -> dict[str, Any]:
    """Score every active profile's purchases up to ``as_of`` (epoch ms; None: now)."""
    now = now_ms()
    summary = compute_rfm(res.store, as_of=as_of or now, purchase_types=res.config.purchase_types,
                          now=now, progress=progress)  # fmt: skip
    return _public(summary)


def rfm_status(res: Resources) -> dict[str, Any] | None:
    """The last run's summary (None: never computed)."""
    summary = res.store.rfm_summary()
    return _public(summary) if summary else None


def _public(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary,
        "as_of": format_ts(summary["as_of"]),
        "computed_at": format_ts(summary["computed_at"]),
    }
