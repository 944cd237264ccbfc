"""Operations: graph health (size histogram, largest profiles, alarms), the
quarantine list with its overrides, and the last resolve, train and RFM runs."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from app.console.charts import bar_chart
from app.console.pages import blp, page, render, resources, session
from app.jobs import recent_jobs
from app.linking import graph_health, model_card
from app.profiles import normalize_query
from app.rfm import rfm_status
from graph.errors import InputError, NotFound
from graph.ingest.events import format_ts

__all__: list[str] = []

OVERRIDES = {"force": "force", "release": "release", "": None}


def _run(res: Any, kind: str) -> dict[str, Any] | None:
    """The last ``resolve``/``train`` run's figures (app.linking.record_run)."""
    run = res.store.meta(f"last_{kind}")
    return {**run, "finished": format_ts(run.get("finished_at"))} if run else None


def _or_none(read: Any) -> Any:
    try:
        return read(resources())
    except NotFound:
        return None


@blp.route("/operations")
@page("read")
def operations() -> Any:
    res = resources()
    health = _or_none(graph_health)
    chart = None
    if health:
        current = health.get("current") or {}
        health = {**health, "at_text": format_ts(current.get("at"))}
        sizes = current.get("sizes") or {}
        ordered = sorted(sizes.items(), key=lambda kv: int(kv[0].split("-")[0].rstrip("+")))
        chart = bar_chart("Profiles per size (identifiers)", ordered)
    admin = "admin" in session().key.scopes
    model, model_missing = None, ""
    try:
        model = model_card(res)
    except NotFound as e:  # never trained, or every attempt failed: says which
        model_missing = str(e)
    return render(
        "operations.html",
        health=health,
        chart=chart,
        model=model,
        model_missing=model_missing,
        last_resolve=_run(res, "resolve"),
        last_train=_run(res, "train"),
        rfm=rfm_status(res),
        quarantine=res.store.quarantine_list(limit=200) if admin else None,
        jobs=recent_jobs(res.redis, limit=10) if admin else None,
        admin=admin,
    )


@blp.route("/operations/quarantine", methods=["POST"])
@page("admin")
def quarantine_override() -> Any:
    """Force an identifier into quarantine, release it, or clear the override (taking
    effect at the next resolve)."""
    res = resources()
    choice = request.form.get("override", "")
    if choice not in OVERRIDES:
        raise InputError("override: force, release or none", field="override")
    identifier = normalize_query(res.registry, request.form.get("type", ""),
                                 request.form.get("value", ""))  # fmt: skip
    if not res.store.set_quarantine_override(identifier, OVERRIDES[choice]):
        raise NotFound(f"no {identifier.type} identifier with that value has been seen")
    return redirect(url_for("console.operations", _anchor="quarantine"), 303)
