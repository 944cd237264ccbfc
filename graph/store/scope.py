"""The scope of a re-plan: which identifiers exist, their links, and the members of
the profiles they belong to (:func:`graph.resolve.neighbourhood.neighbourhood` reads
it round by round, under the resolution lock in the real-time path).

A round's reads go to the store together (:meth:`StoreRunner._read_all`: one round
trip on FalkorDB), so a round costs one wait for the store, not two or three.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from graph.store.records import Conflict, Identifier, Link, Row
from graph.store.runner import Read, StoreRunner, chunks, decoded_texts, identifier_keys

__all__ = ["ScopeRepository", "ScopeRound"]

#: identifiers a round's reads ask about at a time (a larger round reads in pages)
SCOPE_PAGE = 5_000


@dataclass
class ScopeRound:
    """One round of a scope search, for a batch of identifiers."""

    links: list[Link]  #: as :meth:`ScopeRepository.neighbourhood` returns them
    members: list[tuple[Identifier, str, int]]  #: as :meth:`ScopeRepository.members_of_profiles_of`
    existing: list[Identifier] | None = None  #: those of the batch that exist (if asked)
    #: those of the batch flagged as quarantined now (what the plan's write must clear
    #: or keep: :meth:`graph.store.profiles.ProfileRepository.apply_plan`)
    quarantined: list[Identifier] = field(default_factory=list)
    #: refused links touching the batch, as stored (read with ``members``: a re-plan's)
    refused: list[Conflict] = field(default_factory=list)


class ScopeRepository(StoreRunner):
    """The reads of a re-plan's scope (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "existing_identifiers",
        "members_of_profiles_of",
        "neighbourhood",
        "neighbourhood_text",
        "profiles_of",
        "quarantined_among",
        "scope_marks",
    )

    def existing_identifiers(self, identifiers: Iterable[Identifier]) -> list[Identifier]:
        return _identifiers(
            self._read("existing_identifiers", {"keys": identifier_keys(identifiers)})
        )

    def neighbourhood(self, identifiers: Iterable[Identifier], types: Sequence[str]) -> list[Link]:
        """Links (both directions) of ``identifiers`` to identifiers of ``types``:
        observation edges (kind ``deterministic``) and stored model links (``model``);
        ``a`` is always the given identifier."""
        return self._links(
            self._read_all([self._neighbourhood(identifier_keys(identifiers), types)])[0]
        )

    def members_of_profiles_of(
        self, identifiers: Iterable[Identifier]
    ) -> list[tuple[Identifier, str, int]]:
        """(member, profile_id, created_at) of every profile holding one of ``identifiers``."""
        return _members(
            self._read("members_of_profiles_of", {"keys": identifier_keys(identifiers)})
        )

    def profiles_of(self, identifiers: Iterable[Identifier]) -> dict[Identifier, str]:
        """The profile of each of ``identifiers`` that is in one."""
        rows = self._read("profiles_of", {"keys": identifier_keys(identifiers)})
        return {Identifier(t, v): pid for t, v, pid in rows}

    def quarantined_among(self, identifiers: Iterable[Identifier]) -> list[Identifier]:
        """Those of ``identifiers`` flagged as quarantined now."""
        return _identifiers(self._read("quarantined_among", {"keys": identifier_keys(identifiers)}))

    def scope_round(
        self,
        identifiers: Sequence[Identifier],
        types: Sequence[str],
        *,
        existing: bool = False,
        members: bool = True,
    ) -> ScopeRound:
        """:meth:`neighbourhood`, :meth:`members_of_profiles_of` and the refused links
        touching them (unless ``members`` is off: none) and :meth:`quarantined_among`
        of ``identifiers`` (and, with ``existing``, which of them exist), read
        together."""

        def page(keys: list[list[str]]) -> list[Read]:
            # a re-plan's marks come with the refused links it may write again
            marks = Read("scope_marks" if members else "quarantined_among", {"keys": keys})
            reads = [self._neighbourhood(keys, types), marks]
            if members:
                reads.append(Read("members_of_profiles_of", {"keys": keys}))
            if existing:
                reads.append(Read("existing_identifiers", {"keys": keys}))
            return reads

        replies: list[list[Row]] = [[] for _ in page([])]
        # a sample's closures read rounds of 100,000 identifiers (app.graph_sample)
        pages = chunks(identifier_keys(identifiers), SCOPE_PAGE)
        for read in self._in_turn(partial(self._read_all, page(keys)) for keys in pages):
            for rows, reply in zip(replies, read, strict=True):
                rows.extend(reply)
        links, marks, *rest = replies
        found = _identifiers(rest.pop()) if existing else None
        if not members:
            return ScopeRound(self._links(links), [], found, _identifiers(marks))
        refused = {Conflict(Identifier(at, av), Identifier(bt, bv), kind, reason)
                   for _, _, _, touching in marks
                   for at, av, bt, bv, kind, reason in touching}  # fmt: skip
        return ScopeRound(self._links(links), _members(rest.pop()), found,
                          [Identifier(t, v) for t, v, flagged, _ in marks if flagged],
                          list(refused))  # fmt: skip

    def _neighbourhood(self, keys: list[list[str]], types: Sequence[str]) -> Read:
        params = {"keys": keys, "types": list(types)}
        if self.rows_as_text:
            return Read("neighbourhood_text", params)
        return Read("neighbourhood", params)

    def _links(self, rows: list[Row]) -> list[Link]:
        """The links of :meth:`_neighbourhood`'s rows."""
        if not self.rows_as_text:
            return [_link(Identifier(at, av), *rest) for at, av, *rest in rows]
        links: list[Link] = []
        for t, v, linked in decoded_texts(rows):
            a = Identifier(t, v)
            links.extend(_link(a, *link) for link in linked)
        return links


def _identifiers(rows: list[Row]) -> list[Identifier]:
    return [Identifier(t, v) for t, v in rows]


def _link(a: Identifier, bt: str, bv: str, rel: str, weight: float | None, first: int | None,
          last: int | None) -> Link:  # fmt: skip
    kind = "model" if rel == "MODEL_LINK" else "deterministic"
    return Link(a, Identifier(bt, bv), kind, float(weight or 1), int(first or 0), int(last or 0))


def _members(rows: list[Row]) -> list[tuple[Identifier, str, int]]:
    return [(Identifier(t, v), pid, int(c or 0)) for t, v, pid, c in rows]
