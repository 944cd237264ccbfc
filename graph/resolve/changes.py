"""What changed since the last resolve, and how much of the graph a resolve re-plans.

Every ingest batch takes the next ingest sequence number and stamps its events with
it (``write_observations``). A resolve records, in the graph's ``Meta``, the sequence
number it read before reading the graph, and the *basis* of the last full resolve: a
digest of everything besides the graph its result depends on (settings, quarantine
overrides, the link model's version). The next resolve is then

- ``unchanged``: no batch since, same basis — nothing to do;
- ``incremental``: same basis; the identifiers of the events since are re-planned
  with their closed neighbourhood (as the real-time path does) — except those seen
  alone that already have a profile: no link of theirs changed, so neither would
  their plan — and facts are refreshed only for the profiles that changed (the new
  events added to the stored facts of those whose members did not). The
  link model is not re-run: the links it accepted stay, new anonymous identifiers
  wait for the next full resolve — which comes on its own once the identifiers
  re-planned since the last full one exceed ``full_share`` of the graph;
- ``full``: the first resolve, another basis, too much changed, or asked for.

A full resolve re-plans every identifier. Its facts follow change too (``facts_since``)
when the basis of the facts (:func:`facts_basis`: what counts as a purchase, the
facts' format) is the last resolve's and the rebuild was not asked for: only the
profiles whose members changed or whose events are newer than their facts are
refreshed — a new link model re-plans the whole graph but moves a few profiles'
members. ``idgraph resolve --full`` computes every profile's facts from all its events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.ingest.events import Identifier, now_ms
from graph.profiles.facts import FACTS_FORMAT
from graph.store import GraphStore

__all__ = ["RESOLVE_STATE", "Change", "basis_digest", "facts_basis", "pending", "record_resolved"]

#: the Meta key of what the last resolve read (sequence, basis)
RESOLVE_STATE = "resolve_state"


@dataclass
class Change:
    """What a resolve has to do, and why."""

    mode: str  #: "unchanged" | "incremental" | "full"
    reason: str
    sequence: int  #: the ingest sequence number read before the graph
    seeds: list[Identifier] = field(default_factory=list)  #: incremental: what to re-plan
    #: incremental: profiles whose events changed (their facts are refreshed)
    profiles: set[str] = field(default_factory=set)
    #: incremental: the ingest sequence the last resolve read (its events are older)
    since: int = 0
    #: identifiers re-planned incrementally since the last full resolve (this one's included)
    since_full: int = 0
    #: identifiers in the graph when decided (incremental: bounds its neighbourhood)
    graph_size: int = 0
    #: the resolve state it was decided from (what :func:`record_resolved` updates)
    state: dict[str, Any] = field(default_factory=dict)
    #: full: the ingest sequence up to which the stored facts of profiles that keep
    #: their members count every event (None: every profile's facts computed again)
    facts_since: int | None = None


def basis_digest(*parts: Any) -> str:
    """A digest of what a full resolve's result depends on besides the graph."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def facts_basis(purchase_types: Iterable[str]) -> str:
    """A digest of what stored facts depend on besides the events: the event types
    counted as purchases and the facts' format."""
    return basis_digest(sorted(purchase_types), FACTS_FORMAT)


def overrides_digest(overrides: Mapping[Identifier, str]) -> str:
    """Quarantine overrides, digested (the state never holds identifier values)."""
    return basis_digest(sorted((i.type, i.value, o) for i, o in overrides.items()))


def pending(
    store: GraphStore,
    strong_types: Iterable[str],
    basis: str,
    *,
    full: bool = False,
    full_share: float = 0.1,
    facts: str | None = None,
) -> Change:
    """Decide what a resolve with ``basis`` (and ``facts``: :func:`facts_basis`) has to
    do on ``store`` now."""
    sequence = store.ingest_sequence()
    state = store.meta(RESOLVE_STATE) or {}
    if full:
        return Change("full", "asked for", sequence, state=state)
    if not state:
        return Change("full", "no resolve recorded its ingest sequence yet", sequence)
    since = int(state.get("sequence", 0))
    if sequence < since:
        return Change("full", "the ingest sequence went back (the graph was replaced)", sequence,
                      state=state)  # fmt: skip
    # a full resolve from here on may keep the facts of profiles that keep their members
    follows = since if facts is not None and state.get("facts_basis") == facts else None
    if state.get("basis") != basis:
        return Change("full", "settings, quarantine overrides or the link model changed "
                      "since the last full resolve", sequence, state=state,
                      facts_since=follows)  # fmt: skip
    if sequence == since:
        return Change("unchanged", f"no ingest since batch {since}", sequence, state=state)
    ingested = store.ingested_since(since, list(strong_types))
    if not ingested.identifiers:
        return Change("unchanged", f"batches {since + 1}-{sequence} hold no strong identifier",
                      sequence, state=state)  # fmt: skip
    since_full = int(state.get("since_full", 0)) + len(ingested.replan)
    total = store.node_counts()["Identifier"]
    if since_full > full_share * max(total, 1):
        return Change("full", f"{since_full} identifiers changed since the last full resolve, "
                      f"over {full_share:.0%} of {total}: the link model re-scores all",
                      sequence, state=state, facts_since=follows)  # fmt: skip
    reason = (
        f"{ingested.identifiers} identifiers in batches {since + 1}-{sequence}, "
        f"{len(ingested.replan)} to re-plan"
    )
    # facts_since: for when its neighbourhood reaches too far and it turns full
    return Change("incremental", reason, sequence, ingested.replan, ingested.profiles,
                  since, since_full, total, state, facts_since=follows)  # fmt: skip


def record_resolved(
    store: GraphStore, change: Change, basis: str, facts: str | None = None
) -> None:
    """Keep what a finished resolve read: the next one starts from there. ``facts``:
    the basis of the facts it left (:func:`facts_basis`)."""
    state = dict(change.state)
    if change.mode == "full":
        state = {"basis": basis, "since_full": 0, "full_at": now_ms()}
        if facts is not None:
            state["facts_basis"] = facts
    elif change.mode == "incremental":
        state["since_full"] = change.since_full
    state["sequence"] = change.sequence
    store.set_meta(RESOLVE_STATE, state)
