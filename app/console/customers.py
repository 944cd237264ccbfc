"""Support pages: the search box, a customer's profile, its picture and explanations,
and erasure (admin)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import abort, jsonify, redirect, request, url_for

from app.access.sessions import ANY_SCOPE
from app.console.cluster import elements
from app.console.pages import blp, confidence, json_view, page, render, resources, session
from app.console.search import find
from app.erasure import erase_profile
from app.explain import explain
from app.profiles import get_profile, profile_lineage
from graph.errors import InputError
from graph.ingest.events import format_ts

__all__ = ["RFM_GROUPS"]

#: what each RFM group means, for the people reading the profile
RFM_GROUPS = {
    "Champions": "bought recently, often and for a lot",
    "Loyal": "buys regularly and recently",
    "Potential loyalists": "recent customers with a few purchases",
    "New": "first purchase was recent",
    "Promising": "recent, but few and small purchases",
    "Need attention": "average recency, frequency and spend",
    "About to sleep": "below average and fading",
    "Cannot lose them": "used to buy often and much, not lately",
    "At risk": "bought often, but a long time ago",
    "Hibernating": "few purchases, long ago",
    "Lost": "the longest since a purchase, and few of them",
}


@blp.route("/")
@page(ANY_SCOPE)
def home() -> Any:
    """The start page: the search box, and what this key may open."""
    return render("home.html", query="", chosen_type="", types=resources().registry.strong_types)


@blp.route("/search")
@page("read")
def search() -> Any:
    """Any identifier in any format: one match opens its profile, several ask."""
    res = resources()
    text = request.args.get("q", "")
    chosen = request.args.get("type") or None
    if chosen is not None and chosen not in res.registry.strong_types:
        raise InputError(f"unknown identifier type {chosen!r}", field="type")
    found, tried = find(res.store, res.registry, text, chosen)
    in_profiles = [f for f in found if f.record.profile_id]
    if len(in_profiles) == 1 and len(found) == 1:
        return redirect(url_for("console.profile", profile_id=in_profiles[0].record.profile_id,
                                found=found[0].identifier.type))  # fmt: skip
    return render("search.html", query=text, chosen_type=chosen or "", found=found, tried=tried,
                  types=res.registry.strong_types)  # fmt: skip


@blp.route("/profiles/<string:profile_id>")
@page("read")
def profile(profile_id: str) -> Any:
    """Who the customer is, their identifiers, facts, RFM, segments, timeline,
    lineage and household, and the picture of the cluster."""
    res = resources()
    minimum = confidence(request.args.get("min_confidence"), res.config.min_confidence)
    body = get_profile(res.store, res.registry, profile_id, min_confidence=minimum,
                       settings=res.resolve_settings(),
                       purchase_types=res.config.purchase_types)  # fmt: skip
    if body.get("merged_into"):  # a retired ID: show the survivor under its own ID
        return redirect(url_for("console.profile", profile_id=body["merged_into"],
                                merged_from=profile_id))  # fmt: skip
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for identifier in body["identifiers"]:
        by_type[identifier["type"]].append(identifier)
    timeline = [
        {**e, "at": format_ts(e["ts"])} for e in res.store.profile_timeline(profile_id, limit=25)
    ]
    return render(
        "profile.html",
        profile=body,
        by_type=dict(sorted(by_type.items())),
        lineage=profile_lineage(res.store, profile_id),
        timeline=timeline,
        rfm_groups=RFM_GROUPS,
        min_confidence=minimum,
        merged_from=request.args.get("merged_from"),
        found_type=request.args.get("found"),
        can_erase="admin" in session().key.scopes,
    )


@blp.route("/profiles/<string:profile_id>/cluster.json")
@page("read")
@json_view
def cluster(profile_id: str) -> Any:
    """The profile's picture as cytoscape.js elements; ``ips=1`` adds IP evidence."""
    res = resources()
    members = res.store.profile_identifiers(profile_id)
    if not members:
        abort(404, f"no profile {profile_id!r}")
    with_ips = request.args.get("ips") == "1"
    evidence = (
        res.store.profile_evidence_links(profile_id, res.registry.weak_types) if with_ips else []
    )
    return jsonify(
        {
            "profile_id": profile_id,
            "elements": elements(
                members,
                res.store.profile_links(profile_id),
                res.store.profile_model_links(profile_id),
                res.store.profile_refused_links(profile_id),
                evidence,
            ),
        }
    )


@blp.route("/profiles/<string:profile_id>/explain.json")
@page("read")
@json_view
def explanation(profile_id: str) -> Any:
    """Why an identifier is in the profile (the chain of :func:`app.explain.explain`)."""
    res = resources()
    type_name, value = request.args.get("type", ""), request.args.get("value", "")
    if not type_name or not value:
        raise InputError("give the identifier's type and value", field="type")
    in_profile = profile_id if type_name in res.registry.strong_types else None
    return jsonify(explain(res.store, res.registry, type_name, value, profile_id=in_profile))


@blp.route("/profiles/<string:profile_id>/erase", methods=["POST"])
@page("admin")
def erase(profile_id: str) -> Any:
    """Erase the customer, once the profile ID is typed again to confirm."""
    if request.form.get("confirm", "").strip() != profile_id:
        raise InputError("type the profile ID exactly to confirm the erasure", field="confirm")
    result = erase_profile(resources(), profile_id)
    return render("erased.html", result=result)
