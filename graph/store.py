"""The store contract: the one interface ingest, resolution, API and CLI use.

Shared steps live in :class:`GraphStore` and run named Cypher queries through
two hooks, ``_read`` and ``_write``, that each backend adapter implements
(Splink's ``DatabaseAPI`` pattern). No caller knows which store it talks to.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.events import Identifier
from graph.facts import json_object
from graph.integrity import Link
from graph.queries import QueryLibrary
from graph.rfm import Purchaser

if TYPE_CHECKING:
    from graph.resolution import Plan
    from graph.segments import Condition

__all__ = [
    "ApiKeyRecord",
    "GraphStore",
    "IdentifierRecord",
    "ObservationBatch",
    "ProfileRecord",
]

logger = logging.getLogger(__name__)

Row = Sequence[Any]
#: node labels and relationship types a query may name (never taken from input)
LABELS = ("Identifier", "Event", "Profile", "Tombstone", "Meta", "Segment", "ApiKey")
RELATIONSHIPS = (
    "OBSERVED_WITH",
    "SEEN_IN",
    "BELONGS_TO",
    "REFUSED",
    "MERGED_INTO",
    "SPLIT_FROM",
    "MODEL_LINK",
)


@dataclass
class ObservationBatch:
    """Rows for one atomic ingest write, de-duplicated and aggregated.

    Each event row carries ``seen``: the ``[type, value]`` keys of its
    identifiers, which become its SEEN_IN relationships.
    """

    identifiers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def params(self) -> dict[str, Any]:
        return {"identifiers": self.identifiers, "events": self.events, "edges": self.edges}

    @property
    def seen(self) -> int:
        """SEEN_IN relationships the batch creates."""
        return sum(len(e["seen"]) for e in self.events)

    @property
    def size(self) -> int:
        """Nodes and relationships the batch writes or updates."""
        return len(self.identifiers) + len(self.events) + self.seen + len(self.edges)


@dataclass(frozen=True)
class IdentifierRecord:
    identifier: Identifier
    first_seen: int | None
    last_seen: int | None
    event_count: int
    profile_id: str | None
    quarantined: bool = False
    degree: int = 0  #: distinct identity identifiers linked (as of the last resolve)


@dataclass
class ProfileRecord:
    profile_id: str
    created_at: int | None
    updated_at: int | None
    identifiers: list[dict[str, Any]]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    event_count: int = 0
    first_seen: int | None = None
    last_seen: int | None = None
    sources: list[str] = field(default_factory=list)
    traits: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as stored: its hash, never the key (times in ms since the epoch)."""

    name: str
    key_id: str  #: public: finds the record; the hash is then compared in constant time
    hash: str
    scopes: tuple[str, ...]
    created_at: int
    expires_at: int | None = None
    revoked_at: int | None = None
    last_used_at: int | None = None


class GraphStore(ABC):
    """What every graph store offers; adapters implement the hooks below."""

    backend: str = ""
    #: add type labels (``:Email``…) at resolve, for Neo4j Browser's style sheet.
    #: FalkorDB: off — adding a label to an existing node cost ~0.7 ms a node
    #: (43 s of a 49 s resolve on 10,000 persons), for a Neo4j-only feature.
    type_labels: bool = False

    def __init__(self) -> None:
        self.queries = QueryLibrary(self.backend)

    # -- backend hooks ---------------------------------------------------
    @abstractmethod
    def _read(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        """Run the named read query; rows as sequences.

        ``text`` replaces the file's text for queries composed from a named
        template (segment conditions, see :meth:`QueryLibrary.compose`)."""

    @abstractmethod
    def _write(
        self, name: str, params: Mapping[str, Any] | None = None, *, text: str | None = None
    ) -> list[Row]:
        """Run the named write query atomically (retried on transient errors)."""

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create constraints and indexes; safe to call any number of times."""

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the store answers."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, without credentials (for logs and ``/health``)."""

    def schema_statements(self) -> list[str]:
        """The backend's ``schema`` file: one statement a line."""
        return [line.strip() for line in self.queries["schema"].splitlines() if line.strip()]

    # -- ingest ----------------------------------------------------------
    def existing_event_ids(self, event_ids: Iterable[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        return {row[0] for row in self._read("existing_events", {"ids": ids})}

    def write_observations(self, batch: ObservationBatch) -> None:
        if batch.events:
            self._write("write_observations", batch.params())

    # -- resolution ------------------------------------------------------
    def identifiers_of_types(self, types: Sequence[str]) -> list[Identifier]:
        rows = self._read("identifiers_of_types", {"types": list(types)})
        return [Identifier(t, v) for t, v in rows]

    def weighted_links(self, types: Sequence[str]) -> list[Link]:
        """Deterministic links between identifiers of ``types``, weighted by co-observations,
        with the first and last time they were seen together."""
        rows = self._read("links_between_types", {"types": list(types)})
        return [
            Link(
                Identifier(at, av),
                Identifier(bt, bv),
                "deterministic",
                float(n or 1),
                int(first or 0),
                int(last or 0),
            )
            for at, av, bt, bv, n, first, last in rows
        ]

    def links_between_types(self, types: Sequence[str]) -> list[tuple[Identifier, Identifier]]:
        return [(link.a, link.b) for link in self.weighted_links(types)]

    def existing_identifiers(self, identifiers: Iterable[Identifier]) -> list[Identifier]:
        rows = self._read("existing_identifiers", {"keys": _keys(identifiers)})
        return [Identifier(t, v) for t, v in rows]

    def neighbourhood(self, identifiers: Iterable[Identifier], types: Sequence[str]) -> list[Link]:
        """Links (both directions) of ``identifiers`` to identifiers of ``types``:
        observation edges (kind ``deterministic``) and stored model links (``model``);
        ``a`` is always the given identifier."""
        rows = self._read("neighbourhood", {"keys": _keys(identifiers), "types": list(types)})
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

    def members_of_profiles_of(
        self, identifiers: Iterable[Identifier]
    ) -> list[tuple[Identifier, str, int]]:
        """(member, profile_id, created_at) of every profile holding one of ``identifiers``."""
        rows = self._read("members_of_profiles_of", {"keys": _keys(identifiers)})
        return [(Identifier(t, v), pid, int(c or 0)) for t, v, pid, c in rows]

    def active_profiles(self) -> dict[str, int]:
        """profile_id -> created_at of every active (not retired) profile."""
        return {pid: int(c or 0) for pid, c in self._read("active_profiles")}

    # -- model evidence and links --------------------------------------------
    def weak_observations(
        self, types: Sequence[str], weak: Sequence[str]
    ) -> list[tuple[Identifier, str, str | None, int]]:
        """(strong identifier, weak value, user agent, ts) for every event they shared."""
        rows = self._read("weak_observations", {"types": list(types), "weak": list(weak)})
        return [(Identifier(t, v), w, ua, int(ts)) for t, v, w, ua, ts in rows]

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
        for chunk in _chunks(rows, 5000):
            self._write("record_model_links", {"rows": chunk, "now": now})

    # -- profile facts, RFM and segments ---------------------------------------
    def fact_inputs(self, profile_ids: Sequence[str], purchase_types: Sequence[str]) -> list[Row]:
        """Aggregated events of active profiles (rows for :func:`graph.facts.fact_input`)."""
        return self._read(
            "fact_inputs", {"ids": list(profile_ids), "purchase_types": list(purchase_types)}
        )

    def write_profile_facts(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """``rows``: ``{"profile_id": …, "facts": {property: value}}`` (None removes;
        ``facts_at`` versions them: older facts than the stored ones are dropped).
        Returns the number of profiles written."""
        written = 0
        for chunk in _chunks(rows, 1000):
            result = self._write("write_profile_facts", {"rows": chunk})
            written += int(result[0][0]) if result else 0
        return written

    def purchasers(
        self, *, as_of: int, purchase_types: Sequence[str], page_size: int = 5000
    ) -> list[Purchaser]:
        """Every active profile with a purchase up to ``as_of``, read a page at a time."""
        params = {"as_of": as_of, "purchase_types": list(purchase_types)}
        return [
            Purchaser(pid, int(last), int(n), float(total or 0.0))
            for pid, n, last, total in self._pages("purchasers", params, page_size)
            if n
        ]

    def write_rfm(
        self, rows: Sequence[Mapping[str, Any]], *, run: str, as_of: int, now: int
    ) -> None:
        for chunk in _chunks(rows, 2000):
            self._write("write_rfm", {"rows": chunk, "run": run, "as_of": as_of, "now": now})

    def clear_rfm(self, *, run: str) -> int:
        rows = self._write("clear_rfm", {"run": run})
        return int(rows[0][0]) if rows else 0

    def set_meta(self, key: str, value: Any) -> None:
        """Keep a graph-wide JSON value (e.g. the last RFM run's summary)."""
        self._write("set_meta", {"key": key, "value": json.dumps(value, sort_keys=True)})

    def meta(self, key: str) -> Any:
        rows = self._read("get_meta", {"key": key})
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_rfm_summary(self, summary: Mapping[str, Any]) -> None:
        self.set_meta("rfm", dict(summary))

    def rfm_summary(self) -> dict[str, Any] | None:
        value = self.meta("rfm")
        return dict(value) if isinstance(value, dict) else None

    def profile_properties(self, profile_id: str) -> dict[str, Any]:
        """Every stored property of a profile (facts, RFM), or {} if unknown."""
        rows = self._read("profile_properties", {"profile_id": profile_id})
        return dict(rows[0][0]) if rows else {}

    def segment_window(
        self, condition: Condition, *, after: str, scan: int
    ) -> list[tuple[str, bool]]:
        """``scan`` profiles after ``after`` (ID order), each with whether it is an
        active member; fewer than ``scan`` rows means the end was reached."""
        text = self.queries.compose("segment_window", condition.expression)
        rows = self._read(
            "segment_window", {**condition.params, "after": after, "scan": scan}, text=text
        )
        return [(pid, bool(member)) for pid, member in rows]

    def segment_count(self, condition: Condition) -> int:
        text = self.queries.compose("segment_count", condition.expression)
        return int(self._read("segment_count", condition.params, text=text)[0][0])

    def segments_matching(self, profile_id: str, conditions: Sequence[Condition]) -> list[bool]:
        """For each condition (compiled with distinct prefixes), whether the profile meets it."""
        if not conditions:
            return []
        text = self.queries.compose("profile_segments", ", ".join(c.expression for c in conditions))
        params: dict[str, Any] = {"profile_id": profile_id}
        for c in conditions:
            params.update(c.params)
        rows = self._read("profile_segments", params, text=text)
        return [bool(v) for v in rows[0][0]] if rows else [False] * len(conditions)

    def member_rows(self, profile_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Profiles with their members and summary facts, in the order asked."""
        if not profile_ids:
            return []
        found = {}
        for row in self._read("segment_member_rows", {"ids": list(profile_ids)}):
            pid, size, first, last, events, purchases, total, last_purchase = row[:8]
            group, score, traits, members = row[8:]
            found[pid] = {
                "profile_id": pid,
                "size": int(size or 0),
                "first_seen": first,
                "last_seen": last,
                "event_count": int(events or 0),
                "purchase_count": int(purchases or 0),
                "purchase_total": float(total or 0.0),
                "last_purchase": last_purchase,
                "rfm_group": group,
                "rfm_score": score,
                "traits": json_object(traits),
                "identifiers": sorted(
                    ({"type": t, "value": v, "quarantined": bool(q)} for t, v, q in members),
                    key=lambda i: (i["type"], i["value"]),
                ),
            }
        return [found[pid] for pid in profile_ids if pid in found]

    def save_segment(self, segment: Mapping[str, Any], *, now: int) -> int:
        """Create or replace a segment definition; returns its creation time."""
        rows = self._write(
            "save_segment",
            {
                "segment_id": segment["segment_id"],
                "name": segment["name"],
                "description": segment.get("description") or "",
                "rule": json.dumps(segment["rule"], sort_keys=True),
                "now": now,
            },
        )
        return int(rows[0][0])

    def segment(self, segment_id: str) -> dict[str, Any] | None:
        rows = self._read("segment", {"segment_id": segment_id})
        return _segment(rows[0]) if rows else None

    def segments(self) -> list[dict[str, Any]]:
        return [_segment(row) for row in self._read("segments")]

    def delete_segment(self, segment_id: str) -> bool:
        rows = self._write("delete_segment", {"segment_id": segment_id})
        return bool(rows and rows[0][0])

    # -- quarantine --------------------------------------------------------
    def quarantine_overrides(self) -> dict[Identifier, str]:
        return {Identifier(t, v): o for t, v, o in self._read("quarantine_overrides")}

    def set_quarantine_override(self, identifier: Identifier, override: str | None) -> bool:
        """``force``, ``release`` or ``None`` (clear). False if the identifier is unknown."""
        rows = self._write(
            "set_quarantine_override",
            {"type": identifier.type, "value": identifier.value, "override": override},
        )
        return bool(rows and rows[0][0])

    def quarantine_list(self, limit: int = 1000) -> list[dict[str, Any]]:
        return [
            {
                "type": t,
                "value": v,
                "degree": int(d or 0),
                "quarantined": bool(q),
                "override": o,
            }
            for t, v, d, q, o in self._read("quarantine_list", {"limit": limit})
        ]

    # -- erasure -----------------------------------------------------------
    def erasure_salt(self, candidate: str) -> str:
        """The graph's tombstone salt (``candidate`` becomes it on first use)."""
        return str(self._write("erasure_salt", {"candidate": candidate})[0][0])

    def tombstones(self) -> set[str]:
        return {row[0] for row in self._read("tombstones")}

    def add_tombstones(self, hashes: Sequence[str], *, now: int) -> None:
        for chunk in _chunks(hashes, 5000):
            self._write("add_tombstones", {"hashes": chunk, "now": now})

    def events_of_identifiers(
        self, identifiers: Iterable[Identifier]
    ) -> dict[str, list[Identifier]]:
        """event_id -> all identifiers of every event the given identifiers were seen in."""
        rows = self._read("events_of_identifiers", {"keys": _keys(identifiers)})
        return {eid: [Identifier(t, v) for t, v in members] for eid, members in rows}

    def delete_events(self, event_ids: Sequence[str]) -> None:
        for chunk in _chunks(event_ids, 5000):
            self._write("delete_events", {"ids": chunk})

    def delete_identifiers(self, identifiers: Iterable[Identifier]) -> None:
        for chunk in _chunks(_keys(identifiers), 5000):
            self._write("delete_identifiers", {"keys": chunk})

    def recount_observations(self, pairs: Iterable[tuple[Identifier, Identifier]]) -> None:
        rows = [[a.type, a.value, b.type, b.value] for a, b in pairs]
        for chunk in _chunks(rows, 2000):
            self._write("recount_observations", {"pairs": chunk})

    def delete_orphans(self, identifiers: Iterable[Identifier]) -> int:
        total = 0
        for chunk in _chunks(_keys(identifiers), 5000):
            total += int(self._write("delete_orphans", {"keys": chunk})[0][0])
        return total

    def profile_member_keys(self, profile_id: str) -> list[Identifier]:
        rows = self._read("profile_members_keys", {"profile_id": profile_id})
        return [Identifier(t, v) for t, v in rows]

    def retired_into(self, profile_id: str) -> list[str]:
        return [r[0] for r in self._read("retired_into", {"profile_id": profile_id})]

    def delete_profiles(self, profile_ids: Sequence[str]) -> None:
        if profile_ids:
            self._write("delete_profiles", {"ids": list(profile_ids)})

    # -- lineage and explanations ---------------------------------------------
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

    # -- applying a resolution plan ----------------------------------------
    def apply_plan(self, plan: Plan, *, now: int, full: bool, batch_size: int = 5000) -> int:
        """Write a :class:`graph.resolution.Plan`; returns profiles deleted (emptied)."""
        self.apply_assignments(
            plan.moves, plan.removals, now=now, batch_size=batch_size, delete_empty=False
        )
        retire = [{"profile_id": old, "merged_into": new} for old, new in plan.merged_into.items()]
        for chunk in _chunks(retire, batch_size):
            self._write("retire_profiles", {"rows": chunk, "now": now})
        splits = [{"profile_id": new, "split_from": old} for new, old in plan.split_from.items()]
        for chunk in _chunks(splits, batch_size):
            self._write("record_splits", {"rows": chunk, "now": now})
        if full:
            self._write("clear_all_refused")
        else:
            for keys in _chunks(_keys(plan.scope), batch_size):
                self._write("clear_refused", {"keys": keys})
        refused = [
            {
                "a_type": c.a.type,
                "a_value": c.a.value,
                "b_type": c.b.type,
                "b_value": c.b.value,
                "kind": c.kind,
                "reason": c.reason,
            }
            for c in plan.conflicts
        ]
        for chunk in _chunks(refused, batch_size):
            self._write("record_refused", {"rows": chunk, "now": now})
        if full:
            flagged = {
                Identifier(q["type"], q["value"])
                for q in self.quarantine_list(limit=1_000_000)
                if q["quarantined"]
            }
        else:
            flagged = {
                Identifier(t, v)
                for keys in _chunks(_keys(plan.scope), batch_size)
                for t, v in self._read("quarantined_among", {"keys": keys})
            }
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
        for chunk in _chunks(rows, batch_size):
            self._write("set_quarantine", {"rows": chunk})
        if full and self.type_labels:
            self.label_identifier_types()
        # emptied, not retired: every member was erased
        if full:
            deleted = self._write("delete_empty_profiles")
            return int(deleted[0][0]) if deleted else 0
        emptied = self._write("delete_empty_profiles_of", {"ids": sorted(plan.previous)})
        return int(emptied[0][0]) if emptied else 0

    def assignments(self) -> dict[Identifier, str]:
        return {Identifier(t, v): pid for t, v, pid in self._read("assignments")}

    def apply_assignments(
        self,
        moves: Mapping[Identifier, str],
        removals: Iterable[Identifier],
        *,
        now: int,
        batch_size: int = 5000,
        delete_empty: bool = True,
    ) -> int:
        """Move identifiers to profiles, drop others from theirs, tidy up profiles.

        Returns the number of profiles deleted because they lost every member
        (with ``delete_empty=False`` none are: the caller retires them first).
        """
        touched: set[str] = set(moves.values())
        rows = [{"type": i.type, "value": i.value, "profile_id": p} for i, p in moves.items()]
        for chunk in _chunks(rows, batch_size):
            self._write("assign_profiles", {"rows": chunk, "now": now})
        gone = [{"type": i.type, "value": i.value} for i in removals]
        for chunk in _chunks(gone, batch_size):
            self._write("unassign_profiles", {"rows": chunk})
        for ids in _chunks(sorted(touched), batch_size):
            self._write("update_profile_sizes", {"ids": ids})
        if not delete_empty:
            return 0
        deleted = self._write("delete_empty_profiles")
        return int(deleted[0][0]) if deleted else 0

    def label_identifier_types(self) -> None:
        """Add type labels (``:Email``…) to identifiers that lack them (for Neo4j Browser)."""
        self._write("label_identifier_types")

    def identifier_labels(self, identifier: Identifier) -> list[str]:
        rows = self._read("identifier_labels", {"type": identifier.type, "value": identifier.value})
        return sorted(rows[0][0]) if rows else []

    def count_unresolved(self, types: Sequence[str]) -> int:
        return int(self._read("count_unresolved", {"types": list(types)})[0][0])

    # -- lookups ---------------------------------------------------------
    def identifier(self, identifier: Identifier) -> IdentifierRecord | None:
        rows = self._read("identifier", {"type": identifier.type, "value": identifier.value})
        if not rows:
            return None
        first, last, count, pid, quarantined, degree = rows[0]
        return IdentifierRecord(
            identifier, first, last, int(count or 0), pid, bool(quarantined), int(degree or 0)
        )

    def profile(
        self, profile_id: str, *, weak_types: Sequence[str] = (), evidence_limit: int = 50
    ) -> ProfileRecord | None:
        members = self._read("profile_members", {"profile_id": profile_id})
        if not members:
            return None
        record = ProfileRecord(
            profile_id=profile_id,
            created_at=members[0][0],
            updated_at=members[0][1],
            identifiers=[
                {
                    "type": t,
                    "value": v,
                    "first_seen": f,
                    "last_seen": la,
                    "event_count": n,
                    "quarantined": bool(q),
                }
                for _, _, t, v, f, la, n, q in members
            ],
        )
        if weak_types:
            record.evidence = [
                {"type": t, "value": v, "count": int(n), "first_seen": f, "last_seen": la}
                for t, v, n, f, la in self._read(
                    "profile_evidence",
                    {"profile_id": profile_id, "types": list(weak_types), "limit": evidence_limit},
                )
            ]
        activity = self._read("profile_events", {"profile_id": profile_id})
        if activity:
            count, first, last, sources = activity[0]
            record.event_count = int(count or 0)
            record.first_seen, record.last_seen = first, last
            record.sources = sorted(s for s in sources or [] if s)
        for _, traits in reversed(
            self._read("profile_traits", {"profile_id": profile_id, "limit": 100})
        ):
            try:
                record.traits.update(json.loads(traits))
            except (TypeError, ValueError):
                logger.warning("profile %s: unreadable stored traits skipped", profile_id)
        return record

    def iter_profiles(self, *, page_size: int = 1000) -> Iterator[tuple[str, list[Identifier]]]:
        """Every profile with its members, in profile_id order, a page at a time."""
        for pid, members in self._pages("profiles_page", {}, page_size):
            yield pid, sorted(Identifier(t, v) for t, v in members)

    def _pages(self, name: str, params: Mapping[str, Any], page_size: int) -> Iterator[Row]:
        """Rows of a query paged by profile ID (``$after``, ``$limit``; the first
        column is the ID, rows in ID order), a page at a time."""
        after = ""
        while True:
            rows = self._read(name, {**params, "after": after, "limit": page_size})
            yield from rows
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def sample_identifiers(self, type_name: str, limit: int = 3) -> list[str]:
        return [r[0] for r in self._read("sample_identifiers", {"type": type_name, "limit": limit})]

    def stats(self) -> dict[str, int]:
        """Node counts by label and relationship counts by type."""
        counts = {label: 0 for label in (*LABELS, *RELATIONSHIPS)}
        identifiers, events, profiles = self._read("count_nodes")[0]
        counts.update(Identifier=int(identifiers), Event=int(events), Profile=int(profiles))
        for rel, n in self._read("count_relationships"):
            counts[str(rel)] = int(n)
        return counts

    # -- API keys (app/access/keys.py) -------------------------------------------
    def save_api_key(self, record: ApiKeyRecord) -> None:
        self._write(
            "save_api_key",
            {
                "name": record.name,
                "key_id": record.key_id,
                "hash": record.hash,
                "scopes": list(record.scopes),
                "now": record.created_at,
                "expires_at": record.expires_at,
            },
        )

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = self._read("api_key", {"key_id": key_id})
        return _api_key(rows[0]) if rows else None

    def api_keys(self) -> list[ApiKeyRecord]:
        return [_api_key(row) for row in self._read("api_keys")]

    def revoke_api_key(self, name: str, *, now: int) -> bool:
        """True when a key of that name was active and is revoked now."""
        return bool(self._write("revoke_api_key", {"name": name, "now": now}))

    def touch_api_key(self, key_id: str, *, now: int) -> None:
        self._write("touch_api_key", {"key_id": key_id, "now": now})

    def delete_all(self) -> None:
        """Remove every node and relationship (tests, demo reset)."""
        self._write("delete_all")


def _api_key(row: Row) -> ApiKeyRecord:
    name, key_id, hash_, scopes, created, expires, revoked, used = row
    return ApiKeyRecord(name, key_id, hash_, tuple(scopes or ()), int(created),
                        expires, revoked, used)  # fmt: skip


def _segment(row: Row) -> dict[str, Any]:
    segment_id, name, description, rule, created_at, updated_at = row
    return {
        "segment_id": segment_id,
        "name": name,
        "description": description or "",
        "rule": json.loads(rule),
        "created_at": created_at,
        "updated_at": updated_at,
    }


def _keys(identifiers: Iterable[Identifier]) -> list[list[str]]:
    return [[i.type, i.value] for i in identifiers]


def _chunks(rows: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
