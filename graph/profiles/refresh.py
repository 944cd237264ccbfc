"""Facts kept up to date in the store: the new events of a profile added to its stored
facts where they still count its members, the others computed again.

Stored facts count every event of the profile's members up to an ingest sequence
(``facts_sequence``), counted for a version of its members (``facts_members``):
every change of members or erased event bumps the profile's ``members_version``
(the plan's writes and erasure, in the same statement), so facts counted for other
members are recomputed from all their events. The arithmetic is in
:mod:`graph.profiles.facts` (pure); docs/architecture.md ("Profile facts") says why
it is exact under concurrent updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.profiles.facts import added_facts, fact_input, profile_facts
from graph.progress import Progress, no_progress

if TYPE_CHECKING:
    from graph.store import GraphStore

__all__ = ["FactsRefreshed", "refresh_facts"]


@dataclass(frozen=True)
class FactsRefreshed:
    """How many profiles' facts were computed again, and how many added to (a
    profile whose stored facts already counted its new events among them)."""

    recomputed: int = 0
    added: int = 0

    @property
    def total(self) -> int:
        return self.recomputed + self.added


def refresh_facts(
    store: GraphStore,
    profile_ids: Iterable[str],
    *,
    purchase_types: Sequence[str],
    batch_size: int = 500,
    progress: Progress = no_progress,
    added: tuple[int, int] | None = None,
    recount: bool = False,
) -> FactsRefreshed:
    """Bring the facts of ``profile_ids`` up to date (retired or unknown IDs are
    skipped); returns how many profiles were updated.

    A profile whose stored facts count every event of its current members up to an
    ingest sequence gets its later events added to them (:func:`added_facts`; its
    events are still reached through its members, only the later ones aggregated);
    the others are recomputed from all their events, and all of them with
    ``recount``. ``added``: ingest sequences ``(since, until)``: the events of the
    batches after ``since`` up to ``until`` are first added to the stored facts that
    allow it, starting from those events (:meth:`GraphStore.fact_deltas`: what an
    incremental resolve ingested, without reaching each profile's other events).

    Safe to run concurrently for the same profiles without a lock: facts are
    versioned by the store time their events were read (``facts_at``) and a write
    never replaces newer facts; added facts are written only over the facts they
    were added to, while the members are the ones they were counted for.
    """
    ids = sorted(set(profile_ids))
    written: set[str] = set()
    if added is not None and ids:
        written = _add_events(store, set(ids), added, purchase_types)
        ids = [pid for pid in ids if pid not in written]
    recomputed = 0
    pages = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
    # the next pages are read while this one's facts are made and written (disjoint
    # profiles: a page's read does not depend on another's write)
    read = store.fact_inputs_in_turn(pages, purchase_types, add=not recount)
    for n, rows in enumerate(read):
        progress("refreshing facts", n * batch_size, len(ids))
        found = _Refreshes.of(rows)
        recomputed += store.write_profile_facts(found.whole) if found.whole else 0
        done = store.write_fact_deltas(found.deltas) if found.deltas else set()
        written |= done | found.current
        # facts that cannot be added to, or that a concurrent refresh replaced
        again = found.again + [d["profile_id"] for d in found.deltas if d["profile_id"] not in done]
        if again:
            whole = _Refreshes.of(store.fact_inputs(sorted(again), purchase_types)).whole
            recomputed += store.write_profile_facts(whole) if whole else 0
    return FactsRefreshed(recomputed=recomputed, added=len(written))


@dataclass
class _Refreshes:
    """What the rows of ``fact_inputs`` call for."""

    whole: list[dict[str, Any]] = field(default_factory=list)  #: recomputed facts
    deltas: list[dict[str, Any]] = field(default_factory=list)  #: stored facts added to
    current: set[str] = field(default_factory=set)  #: no event since the stored facts
    again: list[str] = field(default_factory=list)  #: stored facts that cannot be added to

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> _Refreshes:
        found = cls()
        for row in rows:
            new = fact_input(row[:11])
            members, after, base_at, stored = row[11:]
            if after is None:
                facts = profile_facts(new).properties(
                    now=new.read_at, previous_trait_keys=new.previous_trait_keys
                )
                found.whole.append({"profile_id": new.profile_id, "facts": facts,
                                    "sequence": new.sequence, "members": members})  # fmt: skip
            elif not new.event_count:
                found.current.add(new.profile_id)
            elif (added := added_facts(stored, new)) is None:
                found.again.append(new.profile_id)
            else:
                facts = added.properties(now=new.read_at,
                                         previous_trait_keys=new.previous_trait_keys)  # fmt: skip
                found.deltas.append({"profile_id": new.profile_id, "facts": facts,
                                     "sequence": new.sequence, "base_at": base_at,
                                     "base_sequence": after, "members": members})  # fmt: skip
        return found


def _add_events(
    store: GraphStore, wanted: set[str], added: tuple[int, int], purchase_types: Sequence[str]
) -> set[str]:
    """Add the events of batches ``added`` to the stored facts of ``wanted`` profiles
    that allow it; returns the profiles written. ``fact_deltas`` rows are laid out as
    ``fact_inputs``' with ``$add`` (their sequence ``until``)."""
    since, until = added
    rows = store.fact_deltas(since, until, purchase_types)
    deltas = _Refreshes.of(row for row in rows if row[0] in wanted).deltas
    return store.write_fact_deltas(deltas) if deltas else set()
