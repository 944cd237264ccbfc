"""The scope of a re-plan: which identifiers exist, their links, and the members of
the profiles they belong to (:func:`graph.resolve.neighbourhood.neighbourhood` reads
it round by round, under the resolution lock in the real-time path).

A round's reads go to the store together (:meth:`StoreRunner._read_all`: one round
trip on FalkorDB), so a round costs one wait for the store, not two or three.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graph.store.records import Identifier, Link, Row
from graph.store.runner import Read, StoreRunner, identifier_keys

__all__ = ["ScopeRepository", "ScopeRound"]


@dataclass
class ScopeRound:
    """One round of a scope search, for a batch of identifiers."""

    links: list[Link]  #: as :meth:`ScopeRepository.neighbourhood` returns them
    members: list[tuple[Identifier, str, int]]  #: as :meth:`ScopeRepository.members_of_profiles_of`
    existing: list[Identifier] | None = None  #: those of the batch that exist (if asked)
    #: those of the batch flagged as quarantined now (what the plan's write must clear
    #: or keep: :meth:`graph.store.profiles.ProfileRepository.apply_plan`)
    quarantined: list[Identifier] = field(default_factory=list)


class ScopeRepository(StoreRunner):
    """The reads of a re-plan's scope (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "existing_identifiers",
        "members_of_profiles_of",
        "neighbourhood",
        "quarantined_among",
    )

    def existing_identifiers(self, identifiers: Iterable[Identifier]) -> list[Identifier]:
        return _identifiers(
            self._read("existing_identifiers", {"keys": identifier_keys(identifiers)})
        )

    def neighbourhood(self, identifiers: Iterable[Identifier], types: Sequence[str]) -> list[Link]:
        """Links (both directions) of ``identifiers`` to identifiers of ``types``:
        observation edges (kind ``deterministic``) and stored model links (``model``);
        ``a`` is always the given identifier."""
        keys = identifier_keys(identifiers)
        return _links(self._read("neighbourhood", {"keys": keys, "types": list(types)}))

    def members_of_profiles_of(
        self, identifiers: Iterable[Identifier]
    ) -> list[tuple[Identifier, str, int]]:
        """(member, profile_id, created_at) of every profile holding one of ``identifiers``."""
        return _members(
            self._read("members_of_profiles_of", {"keys": identifier_keys(identifiers)})
        )

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
        """:meth:`neighbourhood`, :meth:`members_of_profiles_of` (unless ``members`` is
        off: none) and :meth:`quarantined_among` of ``identifiers`` (and, with
        ``existing``, which of them exist), read together."""
        keys = identifier_keys(identifiers)
        reads = [
            Read("neighbourhood", {"keys": keys, "types": list(types)}),
            Read("quarantined_among", {"keys": keys}),
        ]
        if members:
            reads.append(Read("members_of_profiles_of", {"keys": keys}))
        if existing:
            reads.append(Read("existing_identifiers", {"keys": keys}))
        replies = self._read_all(reads)
        found = _identifiers(replies[-1]) if existing else None
        return ScopeRound(_links(replies[0]), _members(replies[2]) if members else [], found,
                          _identifiers(replies[1]))  # fmt: skip


def _identifiers(rows: list[Row]) -> list[Identifier]:
    return [Identifier(t, v) for t, v in rows]


def _links(rows: list[Row]) -> list[Link]:
    return [
        Link(
            Identifier(at, av),
            Identifier(bt, bv),
            "model" if rel == "MODEL_LINK" else "deterministic",
            float(weight or 1),
            int(first or 0),
            int(last or 0),
        )
        for at, av, bt, bv, rel, weight, first, last in rows
    ]


def _members(rows: list[Row]) -> list[tuple[Identifier, str, int]]:
    return [(Identifier(t, v), pid, int(c or 0)) for t, v, pid, c in rows]
