"""Profiles kept ready to serve: a look-up in one read.

A look-up by identifier (:func:`app.profiles.lookup_identifier`) stores the profile
it rendered on the profile node (``ready_document``, JSON), with the profile's
``revision`` and the graph's serving generation as they were read *before* the
profile was. The next look-up of any of its identifiers reads the document with
the identifier, in one query, and serves it while both still match.

What moves them on (:mod:`graph.store.runner`): every write query that changes
profiles in bulk bumps the generation (resolve, RFM, households, erasure,
quarantine; any query not listed as :data:`graph.store.runner.VIEW_NEUTRAL`);
an ingest batch bumps the revision of the profiles its identifiers belong to; the
real-time path bumps the profiles it changed (:meth:`StoreRunner.profile_changes`).
A document read before a write and saved after it carries the old revision, so it
is never served. What a document can trail: a write that has committed and whose
bump, the next query on the same connection, has not yet run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graph.store.records import Identifier
from graph.store.runner import SERVING_GENERATION, StoreRunner, chunks

__all__ = ["SERVING_PROPERTIES", "ReadyProfile", "ServingRepository", "without_serving"]

#: stored properties of a profile node that belong to serving, not to the profile
SERVING_PROPERTIES = ("ready_document", "ready_revision", "ready_generation", "revision")


@dataclass(frozen=True)
class ReadyProfile:
    """What the first read of a look-up found."""

    seen: bool  #: the identifier exists
    profile_id: str | None
    quarantined: bool
    document: str | None  #: the ready document, when it is still current
    revision: int  #: to save a new document under
    generation: int


class ServingRepository(StoreRunner):
    """Ready profile documents (a part of :class:`graph.store.GraphStore`)."""

    QUERIES: tuple[str, ...] = (
        "clear_ready_profiles",
        "ready_profile",
        "save_ready_profile",
    )

    def ready_profile(self, identifier: Identifier) -> ReadyProfile:
        rows = self._read(
            "ready_profile",
            {"type": identifier.type, "value": identifier.value, "key": SERVING_GENERATION},
        )
        if not rows:
            return ReadyProfile(False, None, False, None, 0, 0)
        pid, quarantined, document, built_rev, built_gen, revision, generation = rows[0]
        current = document is not None and (built_rev, built_gen) == (revision, generation)
        return ReadyProfile(True, pid, bool(quarantined), document if current else None,
                            int(revision), int(generation))  # fmt: skip

    def save_ready_profile(self, profile_id: str, document: str, *, revision: int,
                           generation: int) -> None:  # fmt: skip
        params = {"profile_id": profile_id, "document": document, "revision": revision,
                  "generation": generation}  # fmt: skip
        self._write("save_ready_profile", params)

    def clear_ready_profiles(self, profile_ids: Iterable[str]) -> None:
        for chunk in chunks(sorted(set(profile_ids)), 5000):
            self._write("clear_ready_profiles", {"profile_ids": chunk})


def without_serving(properties: dict[str, Any]) -> dict[str, Any]:
    """A profile node's properties without those that belong to serving."""
    return {k: v for k, v in properties.items() if k not in SERVING_PROPERTIES}
