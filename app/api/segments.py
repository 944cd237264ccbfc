"""``/v1/segments``: audience definitions, their members and counts."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app import segments
from app.api import resources
from app.api.guard import requires
from app.api.marketing_schemas import (
    MembersQuerySchema,
    MembersSchema,
    SegmentCountSchema,
    SegmentInputSchema,
    SegmentListSchema,
    SegmentSchema,
)

blp = Blueprint("segments", __name__, description="Segments: rules over profiles")


@blp.route("")
@requires("segments")
@blp.response(200, SegmentListSchema)
def list_segments() -> dict[str, Any]:
    """Every segment definition, by name."""
    return {"segments": segments.list_segments(resources())}


@blp.route("", methods=["POST"])
@requires("segments")
@blp.arguments(SegmentInputSchema)
@blp.response(201, SegmentSchema)
@blp.alt_response(422, description="The rule is not valid; `errors` names the place")
def create_segment(body: dict[str, Any]) -> dict[str, Any]:
    """Define a segment. The rule is validated now; members are found when asked
    for, over the profiles as they are at that moment."""
    return segments.create_segment(resources(), body)


@blp.route("/<string:segment_id>")
@requires("segments")
@blp.response(200, SegmentSchema)
@blp.alt_response(404, description="No such segment")
def get_segment(segment_id: str) -> dict[str, Any]:
    return segments.get_segment(resources(), segment_id)


@blp.route("/<string:segment_id>", methods=["PUT"])
@requires("segments")
@blp.arguments(SegmentInputSchema)
@blp.response(200, SegmentSchema)
@blp.alt_response(404, description="No such segment")
@blp.alt_response(422, description="The rule is not valid")
def update_segment(body: dict[str, Any], segment_id: str) -> dict[str, Any]:
    """Replace a segment's name, description and rule."""
    return segments.update_segment(resources(), segment_id, body)


@blp.route("/<string:segment_id>", methods=["DELETE"])
@requires("segments")
@blp.response(204)
@blp.alt_response(404, description="No such segment")
def delete_segment(segment_id: str) -> None:
    segments.delete_segment(resources(), segment_id)


@blp.route("/<string:segment_id>/count")
@requires("segments")
@blp.response(200, SegmentCountSchema)
@blp.alt_response(404, description="No such segment")
def count(segment_id: str) -> dict[str, Any]:
    """How many active profiles are in the segment now."""
    return segments.count_members(resources(), segment_id)


@blp.route("/<string:segment_id>/members")
@requires("segments")
@blp.arguments(MembersQuerySchema, location="query")
@blp.response(200, MembersSchema)
@blp.alt_response(404, description="No such segment")
def members(args: dict[str, Any], segment_id: str) -> dict[str, Any]:
    """Members in profile ID order, `limit` at a time; pass `next` as `after` for the
    following page. The order is stable: a profile's place is its ID. With
    `min_confidence`, each member's identifiers as they stand without links below it."""
    return segments.member_page(resources(), segment_id, after=args["after"],
                                limit=args["limit"],
                                min_confidence=args["min_confidence"])  # fmt: skip
