"""The record types of the store contract: what goes in and comes out of a store.

They live with the contract so that every module above it (ingest, resolution,
profiles) imports the store, never the reverse. The domain modules re-export the
ones they are known by (``graph.ingest.events.Identifier``,
``graph.resolve.integrity.Link``...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "DEVICE_TYPES",
    "IDENTITY_TYPES",
    "KIND_RANK",
    "ApiKeyRecord",
    "Condition",
    "Conflict",
    "Identifier",
    "IdentifierRecord",
    "Ingested",
    "Link",
    "ObservationBatch",
    "Plan",
    "ProfileRecord",
    "Purchaser",
    "Row",
    "has_nul",
    "json_object",
]

Row = Sequence[Any]


class Identifier(NamedTuple):
    """A normalized identifier: the key of an Identifier node (a plain tuple)."""

    type: str
    value: str


#: identifier types that name one person; a value linked to many of them is shared
IDENTITY_TYPES = frozenset({"email", "phone", "user_id", "loyalty_id"})
#: identifier types that name one browser or app install (Segment's anonymousId too)
DEVICE_TYPES = frozenset({"cookie_id", "device_id", "anonymous_id"})
KIND_RANK = {"deterministic": 0, "model": 1}


@dataclass(frozen=True)
class Link:
    """Evidence that two identifiers are one customer."""

    a: Identifier
    b: Identifier
    kind: str = "deterministic"  #: "deterministic" or "model"
    weight: float = 1.0  #: observation count (deterministic) or score (model)
    first: int = 0  #: first time the two were seen together (ms; 0: unknown)
    last: int = 0  #: last time the two were seen together (ms; 0: unknown)

    def order_key(self) -> tuple[int, int, float, Identifier, Identifier]:
        low, high = (self.a, self.b) if self.a <= self.b else (self.b, self.a)
        # 0: both ends name a person; 1: one does; 2: device/cookie pairs
        evidence = 2 - (low.type in IDENTITY_TYPES) - (high.type in IDENTITY_TYPES)
        return (KIND_RANK[self.kind], evidence, -self.weight, low, high)


@dataclass(frozen=True)
class Conflict:
    """A link that was not applied, and why (``a`` is the smaller key)."""

    a: Identifier
    b: Identifier
    kind: str
    reason: str


@dataclass
class Plan:
    """What one resolution writes."""

    scope: set[Identifier]
    moves: dict[Identifier, str]
    removals: list[Identifier]
    merged_into: dict[str, str]
    split_from: dict[str, str]
    conflicts: list[Conflict]
    quarantined: dict[Identifier, int]  #: identifier -> identity degree
    degrees: dict[Identifier, int]
    clusters: list[list[Identifier]]
    #: profiles that lose members (moved or removed): the only ones it can leave empty
    losing: set[str] = field(default_factory=set)
    #: members of each profile whose members change, after it (a cluster holds every
    #: member of its profile); None: recounted in the store
    sizes: dict[str, int] | None = None
    #: model links that were applied (stored as MODEL_LINK for explanations, real time)
    model_links: list[Link] = field(default_factory=list)


@dataclass(frozen=True)
class Purchaser:
    profile_id: str
    last_purchase: int  #: epoch ms
    frequency: int  #: purchases up to as_of
    monetary: float  #: total amount up to as_of


@dataclass
class Condition:
    """A compiled rule: a Cypher boolean expression over ``p`` and its parameters."""

    expression: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ObservationBatch:
    """Rows for one atomic ingest write, de-duplicated and aggregated.

    Each event row carries ``seen``: the ``[type, value]`` keys of its
    identifiers, which become its SEEN_IN relationships.
    """

    identifiers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    #: whether its write makes the ready documents of its identifiers' profiles stale
    #: (False: the caller changes those profiles itself right after and marks them
    #: then, as the real-time path does: app/collection.py)
    mark_profiles: bool = True
    #: the parameters of its write queries as the store's adapter encodes them, when
    #: prepared ahead of the write (:meth:`graph.store.GraphStore.prepare_observations`)
    encoded: list[Mapping[str, Any]] | None = field(default=None, repr=False)

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


@dataclass
class Ingested:
    """What the ingest batches after a sequence number changed (an incremental resolve's
    input): the identifiers to re-plan and the profiles whose events changed."""

    replan: list[Identifier]
    profiles: set[str]
    identifiers: int  #: strong identifiers seen in those batches


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
    #: every stored property of the profile node (status, lineage, facts, RFM)
    properties: dict[str, Any] = field(default_factory=dict)


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


def json_object(text: Any) -> dict[str, Any]:
    """A JSON object stored as text (``traits``, ``events_by_type``); ``{}`` when the
    text is missing or not a JSON object."""
    try:
        value = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def has_nul(value: Any) -> bool:
    """True when a string anywhere in ``value`` (keys included) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False
