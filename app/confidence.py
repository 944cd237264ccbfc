"""Confidence-aware reads: a profile as it stands when links below a confidence are
left out.

Every link has a confidence: a deterministic link (seen together in an event) 1.0,
a model link its score — the calibrated probability of the model's families, or the
browser family's estimated precision. A support desk verifying a caller asks for
``min_confidence=1`` (deterministic links only); an ad audience can take every link.
Leaving links out can only split a profile: the members are re-clustered under the
same merge protection with the remaining links (:func:`graph.resolve.integrity.cluster`)
and the answer is the part holding the identifier asked for (a look-up) or the
profile's strongest identifier (a profile read). Facts, RFM and segments stay those
of the whole profile (they are kept per profile); the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.resolve.integrity import cluster
from graph.resolve.lineage import anchor_of
from graph.resolve.resolution import ResolveSettings
from graph.store import GraphStore
from graph.store.records import Identifier, Link

__all__ = ["ConfidentPart", "confident_part", "restrict_rows"]


@dataclass
class ConfidentPart:
    members: set[Identifier]
    left_out: int  #: members of the profile not in this part
    model_links_left_out: int

    def describe(self, min_confidence: float) -> dict[str, Any]:
        return {
            "min_confidence": min_confidence,
            "identifiers_left_out": self.left_out,
            "model_links_left_out": self.model_links_left_out,
            # member rows (segments, exports) carry the stored facts of the whole
            # profile; a profile read replaces them with the part's (app/profiles.py)
            "facts_of": "the whole profile",
        }


def confident_part(
    store: GraphStore,
    settings: ResolveSettings,
    profile_id: str,
    min_confidence: float,
    *,
    holding: Identifier | None = None,
) -> ConfidentPart | None:
    """The part of ``profile_id`` that stands with links of at least
    ``min_confidence``, holding ``holding`` (default: the profile's strongest
    identifier); None when no link of the profile is below it (the whole profile)."""
    model = store.profile_model_links(profile_id)
    low = [m for m in model if m["score"] < min_confidence]
    if not low:
        return None
    members = store.profile_member_keys(profile_id)
    links = [Link(lk["a"], lk["b"], "deterministic", float(lk["count"] or 1))
             for lk in store.profile_links(profile_id) if not lk["refused"]]  # fmt: skip
    links += [Link(m["a"], m["b"], "model", m["score"]) for m in model
              if m["score"] >= min_confidence]  # fmt: skip
    parts = cluster(members, links, limits=settings.limits).clusters
    anchor = holding or anchor_of(members)
    part = next(set(p) for p in parts if anchor in p)
    return ConfidentPart(part, len(members) - len(part), len(low))


def restrict_rows(
    store: GraphStore,
    settings: ResolveSettings,
    rows: list[dict[str, Any]],
    min_confidence: float,
) -> list[dict[str, Any]]:
    """Member rows (:meth:`GraphStore.member_rows`) with each profile's identifiers
    restricted to the part that stands at ``min_confidence`` (holding its strongest
    identifier); a row that lost identifiers says so in ``confidence``. One query for
    the page, then three for each profile that has a link below the confidence."""
    if min_confidence <= 0 or not rows:
        return rows
    lowest = store.lowest_model_scores([row["profile_id"] for row in rows])
    for row in rows:
        if lowest.get(row["profile_id"], 1.0) >= min_confidence:
            continue
        part = confident_part(store, settings, row["profile_id"], min_confidence)
        if part is None:
            continue
        row["identifiers"] = [i for i in row["identifiers"]
                              if Identifier(i["type"], i["value"]) in part.members]  # fmt: skip
        row["confidence"] = part.describe(min_confidence)
    return rows
