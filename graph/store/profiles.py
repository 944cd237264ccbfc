"""Profiles and lineage: applying a resolution plan (assignments, retired and
split IDs, refused and model links, quarantine flags) and reading profiles back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from graph.store.quarantine import QuarantineRepository
from graph.store.records import (
    Conflict,
    Identifier,
    Link,
    Plan,
    ProfileRecord,
    Row,
)
from graph.store.runner import Write, chunks
from graph.store.scope import ScopeRepository
from graph.store.serving import without_serving

logger = logging.getLogger(__name__)

__all__ = ["ProfileRepository"]


class ProfileRepository(QuarantineRepository, ScopeRepository):
    """Profiles and lineage (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "active_profiles",
        "assign_profiles",
        "assignments",
        "clear_all_refused",
        "clear_model_links",
        "delete_refused",
        "delete_empty_profiles",
        "delete_empty_profiles_of",
        "identifier_labels",
        "label_identifier_types",
        "lowest_model_scores",
        "model_links",
        "profile_lineage",
        "profile_links",
        "profile_members",
        "profile_members_keys",
        "profile_model_links",
        "profile_properties",
        "profile_view",
        "profile_status",
        "profiles_page",
        "record_model_links",
        "record_refused",
        "record_splits",
        "refused_links_of",
        "retire_profiles",
        "retired_into",
        "set_profile_sizes",
        "set_quarantine",
        "shared_events",
        "unassign_profiles",
        "update_profile_sizes",
    )

    def active_profiles(self) -> dict[str, int]:
        """profile_id -> created_at of every active (not retired) profile."""
        return {pid: int(c or 0) for pid, c in self._read("active_profiles")}

    def model_links(self) -> list[Link]:
        return [
            Link(Identifier(at, av), Identifier(bt, bv), "model", float(score))
            for at, av, bt, bv, score in self._read("model_links")
        ]

    def replace_model_links(self, links: Sequence[Link], *, version: str, now: int) -> None:
        """Forget the stored model links and record ``links`` (accepted at this resolve)."""
        self._write("clear_model_links")
        rows = [
            {
                "a_type": lk.a.type,
                "a_value": lk.a.value,
                "b_type": lk.b.type,
                "b_value": lk.b.value,
                "score": lk.weight,
                "model_version": version,
            }
            for lk in links
        ]
        for chunk in chunks(rows, 5000):
            self._write("record_model_links", {"rows": chunk, "now": now})

    def apply_plan(
        self, plan: Plan, *, now: int, full: bool, batch_size: int = 5000,
        flagged: Iterable[Identifier] | None = None, refused: Iterable[Conflict] = (),
    ) -> int:  # fmt: skip
        """Write a :class:`graph.resolve.resolution.Plan`; returns profiles deleted (emptied).

        An update's writes (``full=False``: the real-time path, a few profiles) go
        together (:meth:`StoreRunner._write_all`: on FalkorDB one round trip instead of
        about seven, each of which queued behind other clients' queries under load);
        a full plan's, chunked, one after the other. ``flagged``: the identifiers of an
        update's scope quarantined now, when the caller read them already
        (:meth:`graph.store.scope.ScopeRepository.scope_round`; else read here).
        ``refused``: an update's refused links touching its scope as stored now (read
        with the scope): it writes only those that changed (:meth:`_refused_writes`).
        """
        # read first: none of the writes below changes a quarantine flag
        flagged = (set(flagged) if flagged is not None
                   else self._flagged(plan, full=full, batch_size=batch_size))  # fmt: skip
        writes = self._assignment_writes(plan.moves, plan.removals, now=now,
                                         batch_size=batch_size, sizes=plan.sizes)  # fmt: skip
        retire = [{"profile_id": old, "merged_into": new} for old, new in plan.merged_into.items()]
        writes += [Write("retire_profiles", {"rows": c, "now": now})
                   for c in chunks(retire, batch_size)]  # fmt: skip
        splits = [{"profile_id": new, "split_from": old} for new, old in plan.split_from.items()]
        writes += [Write("record_splits", {"rows": c, "now": now})
                   for c in chunks(splits, batch_size)]  # fmt: skip
        writes += self._refused_writes(plan, now=now, full=full, batch_size=batch_size,
                                       stored=refused)  # fmt: skip
        rows = [
            {"type": i.type, "value": i.value, "quarantined": True, "degree": d}
            for i, d in plan.quarantined.items()
        ] + [
            {
                "type": i.type,
                "value": i.value,
                "quarantined": False,
                "degree": plan.degrees.get(i, 0),
            }
            for i in flagged
            if i not in plan.quarantined and (full or i in plan.scope)
        ]
        writes += [Write("set_quarantine", {"rows": c}) for c in chunks(rows, batch_size)]
        # emptied, not retired: every member was erased. Only a profile that loses
        # members can be left empty (most updates move none out of any)
        if not full:
            if not plan.losing:
                self._write_all(writes)
                return 0
            writes.append(Write("delete_empty_profiles_of", {"ids": sorted(plan.losing)}))
            emptied = self._write_all(writes)[-1]
            return int(emptied[0][0]) if emptied else 0
        for write in writes:
            self._write(write.name, write.params)
        if self.type_labels:
            self.label_identifier_types()
        deleted = self._write("delete_empty_profiles")
        return int(deleted[0][0]) if deleted else 0

    @staticmethod
    def _refused_writes(
        plan: Plan, *, now: int, full: bool, batch_size: int, stored: Iterable[Conflict]
    ) -> list[Write]:
        """The plan's refused links: a full plan's all written again after every
        refused link is deleted; an update's, only the changes against those
        ``stored`` now (most updates change none). An update decides on the links
        between identifiers of its scope only: a refused link from a quarantined
        identifier of the scope to one outside it (quarantine does not expand the
        scope) stays, as a full resolve would record it again. One refused link a
        pair (a -> b); a pair's last conflict wins, as ``record_refused`` (MERGE,
        SET) leaves it; an unchanged link keeps the time it was first refused."""
        wanted = {(c.a, c.b): c for c in plan.conflicts}
        if full:
            writes, changed = [Write("clear_all_refused")], list(wanted.values())
        else:
            held = {(c.a, c.b): c for c in stored if c.a in plan.scope and c.b in plan.scope}
            gone = [{"a_type": a.type, "a_value": a.value, "b_type": b.type, "b_value": b.value}
                    for a, b in sorted(held.keys() - wanted.keys())]  # fmt: skip
            writes = [Write("delete_refused", {"rows": c}) for c in chunks(gone, batch_size)]
            changed = [c for pair, c in wanted.items() if held.get(pair) != c]
        rows = [{"a_type": c.a.type, "a_value": c.a.value, "b_type": c.b.type,
                 "b_value": c.b.value, "kind": c.kind, "reason": c.reason}
                for c in changed]  # fmt: skip
        return writes + [Write("record_refused", {"rows": c, "now": now})
                         for c in chunks(rows, batch_size)]  # fmt: skip

    def _flagged(self, plan: Plan, *, full: bool, batch_size: int) -> set[Identifier]:
        """The identifiers quarantined now: all of them (``full``), or those of the
        plan's scope."""
        if full:
            return {
                Identifier(q["type"], q["value"])
                for q in self.quarantine_list(limit=1_000_000)
                if q["quarantined"]
            }
        return {
            i
            for part in chunks(sorted(plan.scope), batch_size)
            for i in self.quarantined_among(part)
        }

    def assignments(self) -> dict[Identifier, str]:
        return {Identifier(t, v): pid for t, v, pid in self._read("assignments")}

    def apply_assignments(
        self,
        moves: Mapping[Identifier, str],
        removals: Iterable[Identifier],
        *,
        now: int,
        batch_size: int = 5000,
    ) -> int:
        """Move identifiers to profiles, drop others from theirs, tidy up profiles.

        Returns the number of profiles deleted because they lost every member.
        """
        for write in self._assignment_writes(moves, removals, now=now, batch_size=batch_size):
            self._write(write.name, write.params)
        deleted = self._write("delete_empty_profiles")
        return int(deleted[0][0]) if deleted else 0

    @staticmethod
    def _assignment_writes(
        moves: Mapping[Identifier, str], removals: Iterable[Identifier], *, now: int,
        batch_size: int, sizes: Mapping[str, int] | None = None,
    ) -> list[Write]:  # fmt: skip
        """Identifiers moved to profiles, others dropped from theirs, then the sizes
        of the profiles whose members changed: as a plan counted them (``sizes``),
        else recounted in the store for the profiles they moved to."""
        rows = [{"type": i.type, "value": i.value, "profile_id": p} for i, p in moves.items()]
        gone = [{"type": i.type, "value": i.value} for i in removals]
        if sizes is None:
            counts = [Write("update_profile_sizes", {"ids": ids})
                      for ids in chunks(sorted(set(moves.values())), batch_size)]  # fmt: skip
        else:
            sized = [{"profile_id": p, "size": n} for p, n in sorted(sizes.items())]
            counts = [Write("set_profile_sizes", {"rows": c}) for c in chunks(sized, batch_size)]
        return [
            *(Write("assign_profiles", {"rows": c, "now": now}) for c in chunks(rows, batch_size)),
            *(Write("unassign_profiles", {"rows": c}) for c in chunks(gone, batch_size)),
            *counts,
        ]

    def recount_profile_sizes(self, profile_ids: Iterable[str]) -> None:
        """Count the members of these profiles again (after an erasure took some)."""
        for ids in chunks(sorted(set(profile_ids)), 5000):
            self._write("update_profile_sizes", {"ids": ids})

    def label_identifier_types(self) -> None:
        """Add type labels (``:Email``…) to identifiers that lack them (for Neo4j Browser)."""
        self._write("label_identifier_types")

    def identifier_labels(self, identifier: Identifier) -> list[str]:
        rows = self._read("identifier_labels", {"type": identifier.type, "value": identifier.value})
        return sorted(rows[0][0]) if rows else []

    def profile(
        self, profile_id: str, *, weak_types: Sequence[str] = (), evidence_limit: int = 50,
        traits_limit: int = 100,
    ) -> ProfileRecord | None:  # fmt: skip
        """A profile with its members, activity, newest traits (from its ``traits_limit``
        newest events that carried any), evidence of ``weak_types`` and stored
        properties, in one read; ``None`` when unknown or empty (retired, erased)."""
        rows = self._read(
            "profile_view",
            {"profile_id": profile_id, "types": list(weak_types), "limit": evidence_limit},
        )
        if not rows or not rows[0][1]:
            return None
        properties, members, count, first, last, sources, traits, evidence = rows[0]
        props = without_serving(dict(properties or {}))
        record = ProfileRecord(
            profile_id=profile_id,
            created_at=props.get("created_at"),
            updated_at=props.get("updated_at"),
            identifiers=_member_identifiers([[None, None, *m] for m in members]),
            event_count=int(count or 0),
            first_seen=first,
            last_seen=last,
            sources=sorted(s for s in sources or [] if s),
            properties=props,
        )
        record.evidence = [
            {"type": t, "value": v, "count": int(n), "first_seen": f, "last_seen": la}
            for t, v, n, f, la in evidence or []
        ]
        newest = sorted(traits or [], key=lambda row: row[0] or 0)[-traits_limit:]
        for _, text in newest:  # oldest first: the newest value of each trait wins
            try:
                record.traits.update(json.loads(text))
            except (TypeError, ValueError):
                logger.warning("profile %s: unreadable stored traits skipped", profile_id)
        return record

    def profile_identifiers(self, profile_id: str) -> list[dict[str, Any]]:
        """A profile's members with their activity (the first part of :meth:`profile`,
        without its evidence, events and traits); [] for an unknown profile."""
        return _member_identifiers(self._read("profile_members", {"profile_id": profile_id}))

    def iter_profiles(self, *, page_size: int = 1000) -> Iterator[tuple[str, list[Identifier]]]:
        """Every profile with members, a page at a time (retired profiles, which have
        none, are skipped); in profile_id order within a page (and across pages on
        Neo4j: FalkorDB pages by node ID, :meth:`StoreRunner._pages`)."""
        for pid, members in self._pages("profiles_page", {}, page_size):
            if members:
                yield pid, sorted(Identifier(t, v) for t, v in members)

    def profile_member_keys(self, profile_id: str) -> list[Identifier]:
        rows = self._read("profile_members_keys", {"profile_id": profile_id})
        return [Identifier(t, v) for t, v in rows]

    def retired_into(self, profile_id: str) -> list[str]:
        return [r[0] for r in self._read("retired_into", {"profile_id": profile_id})]

    def profile_status(self, profile_id: str) -> dict[str, Any] | None:
        rows = self._read("profile_status", {"profile_id": profile_id})
        if not rows:
            return None
        status, merged_into, split_from, created_at, retired_at = rows[0]
        return {
            "status": status or "active",
            "merged_into": merged_into,
            "split_from": split_from,
            "created_at": created_at,
            "retired_at": retired_at,
        }

    def profile_lineage(self, profile_id: str) -> list[dict[str, Any]]:
        rows = self._read("profile_lineage", {"profile_id": profile_id})
        return [
            {"relation": rel, "from": start, "to": end, "at": at}
            for rel, start, end, at in rows
            if rel is not None
        ]

    def profile_links(self, profile_id: str) -> list[dict[str, Any]]:
        return [
            {
                "a": Identifier(at, av),
                "b": Identifier(bt, bv),
                "count": int(n or 0),
                "first_seen": first,
                "last_seen": last,
                "sources": list(sources or []),
                "refused": bool(refused),
            }
            for at, av, bt, bv, n, first, last, sources, refused in self._read(
                "profile_links", {"profile_id": profile_id}
            )
        ]

    def lowest_model_scores(self, profile_ids: Sequence[str]) -> dict[str, float]:
        """For each of ``profile_ids`` with model links inside it, the lowest score."""
        if not profile_ids:
            return {}
        rows = self._read("lowest_model_scores", {"ids": list(profile_ids)})
        return {str(pid): float(score) for pid, score in rows}

    def profile_model_links(self, profile_id: str) -> list[dict[str, Any]]:
        return [
            {
                "a": Identifier(at, av),
                "b": Identifier(bt, bv),
                "score": float(score),
                "model_version": version,
            }
            for at, av, bt, bv, score, version in self._read(
                "profile_model_links", {"profile_id": profile_id}
            )
        ]

    def shared_events(self, a: Identifier, b: Identifier, limit: int = 3) -> list[str]:
        params = {"a_type": a.type, "a_value": a.value, "b_type": b.type, "b_value": b.value}
        return [r[0] for r in self._read("shared_events", {**params, "limit": limit})]

    def refused_links_of(self, identifier: Identifier, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._read(
            "refused_links_of",
            {"type": identifier.type, "value": identifier.value, "limit": limit},
        )
        return [
            {"with": {"type": t, "value": v}, "kind": kind, "reason": reason}
            for t, v, kind, reason in rows
        ]

    def profile_properties(self, profile_id: str) -> dict[str, Any]:
        """Every stored property of a profile (facts, RFM), or {} if unknown."""
        rows = self._read("profile_properties", {"profile_id": profile_id})
        return without_serving(dict(rows[0][0])) if rows else {}


def _member_identifiers(rows: list[Row]) -> list[dict[str, Any]]:
    """Member dicts from ``profile_members`` rows."""
    return [
        {
            "type": t,
            "value": v,
            "first_seen": f,
            "last_seen": la,
            "event_count": n,
            "quarantined": bool(q),
            "sources": sorted(x for x in sources or [] if x),
        }
        for _, _, t, v, f, la, n, q, sources in rows
    ]
