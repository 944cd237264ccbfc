"""Marketing pages: segments with live counts, the segment editor, a member
preview, audience exports with their progress, and the RFM summary."""

from __future__ import annotations

from typing import Any

from flask import jsonify, redirect, request, send_file, url_for

from app.audiences import FORMATS
from app.console.charts import bar_chart
from app.console.pages import blp, confidence, json_view, page, render, resources
from app.console.segment_form import (
    RuleTextError,
    SegmentForm,
    form_from_request,
    form_from_segment,
)
from app.export_jobs import export_status, finished_export_file, list_exports, start_export
from app.rfm import rfm_status
from app.segments import (
    count_members,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    member_sample,
    update_segment,
)
from graph.errors import InputError
from graph.profiles.rfm import GROUPS
from graph.profiles.segments import FIELDS, OPERATORS

__all__: list[str] = []

#: what a row of the editor can test, in the order offered
CONDITION_KINDS = (*FIELDS, "trait", "has", "source", "events")
ROW_OPERATORS = (*OPERATORS, "in", "not_in", "exists")


@blp.route("/segments")
@page("segments")
def segments() -> Any:
    """Every segment (counts load as the page opens), the RFM chart, recent exports."""
    res = resources()
    rfm = rfm_status(res)
    chart = None
    if rfm:
        groups = rfm.get("groups") or {}
        chart = bar_chart("Profiles per RFM group", [(g, int(groups.get(g, 0))) for g in GROUPS])
    return render("segments.html", segments=list_segments(res), rfm=rfm, chart=chart,
                  exports=list_exports(res, limit=10))  # fmt: skip


@blp.route("/segments/<string:segment_id>/count.json")
@page("segments")
@json_view
def segment_count(segment_id: str) -> Any:
    return jsonify(count_members(resources(), segment_id))


def _editor(form: SegmentForm, segment: dict[str, Any] | None, status: int = 200) -> Any:
    return render("segment_edit.html", status, form=form, segment=segment,
                  kinds=CONDITION_KINDS, operators=ROW_OPERATORS, formats=FORMATS,
                  types=resources().registry.strong_types)  # fmt: skip


def _saved(form: SegmentForm, segment_id: str | None) -> dict[str, Any] | None:
    """Save the form's segment; None (with the errors placed) when it is not valid."""
    res = resources()
    try:
        body = {"name": form.name, "description": form.description, "rule": form.rule()}
        if segment_id is None:
            return create_segment(res, body)
        return update_segment(res, segment_id, body)
    except RuleTextError as e:
        form.errors["rule"] = str(e)
    except InputError as e:
        form.place(e.field, str(e))
    return None


@blp.route("/segments/<string:segment_id>/preview")
@page("segments")
def segment_preview(segment_id: str) -> Any:
    """A few members (an HTML fragment the editor loads after the page)."""
    return render("_members.html", members=member_sample(resources(), segment_id, 10))


@blp.route("/segments/new", methods=["GET", "POST"])
@page("segments")
def new_segment() -> Any:
    if request.method == "GET":
        return _editor(SegmentForm().with_blank_rows(), None)
    form = form_from_request(request.form)
    saved = _saved(form, None)
    if saved is None:
        return _editor(form.with_blank_rows(), None, 422)
    return redirect(url_for("console.segment", segment_id=saved["segment_id"]), 303)


@blp.route("/segments/<string:segment_id>", methods=["GET", "POST"])
@page("segments")
def segment(segment_id: str) -> Any:
    """The editor of one segment, its first members, and its exports."""
    stored = get_segment(resources(), segment_id)
    if request.method == "GET":
        return _editor(form_from_segment(stored), stored)
    form = form_from_request(request.form)
    saved = _saved(form, segment_id)
    if saved is None:
        return _editor(form.with_blank_rows(), stored, 422)
    return redirect(url_for("console.segment", segment_id=segment_id, saved=1), 303)


@blp.route("/segments/<string:segment_id>/delete", methods=["POST"])
@page("segments")
def remove_segment(segment_id: str) -> Any:
    delete_segment(resources(), segment_id)
    return redirect(url_for("console.segments"), 303)


@blp.route("/segments/<string:segment_id>/exports", methods=["POST"])
@page("segments")
def export(segment_id: str) -> Any:
    """Start an audience export of the segment (an rq job) and follow it."""
    fmt = request.form.get("format", "")
    if fmt not in FORMATS:
        raise InputError(f"choose a format: {', '.join(FORMATS)}", field="format")
    minimum = confidence(request.form.get("min_confidence"), 0.0)
    traits = [t.strip() for t in request.form.get("traits", "").split(",") if t.strip()]
    started = start_export(resources(), segment_id, fmt, traits, min_confidence=minimum,
                           household=request.form.get("household") == "1")  # fmt: skip
    return redirect(url_for("console.export_page", export_id=started["export_id"]), 303)


@blp.route("/exports/<string:export_id>")
@page("segments")
def export_page(export_id: str) -> Any:
    return render("export.html", export=export_status(resources(), export_id))


@blp.route("/exports/<string:export_id>/status.json")
@page("segments")
@json_view
def export_progress(export_id: str) -> Any:
    status = export_status(resources(), export_id)
    if status["download_url"]:
        status["download_url"] = url_for("console.export_file", export_id=export_id)
    return jsonify(status)


@blp.route("/exports/<string:export_id>/file")
@page("segments")
def export_file(export_id: str) -> Any:
    path, name = finished_export_file(resources(), export_id)
    return send_file(path, as_attachment=True, download_name=name, max_age=0)
