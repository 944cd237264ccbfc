"""Tombstones: salted hashes of erased identifiers and event IDs, which ingest refuses.

Written by erasure (:mod:`graph.resolve.erasure`); read once per ingest run (kept by
the store while no erasure adds any), so that replaying old events cannot bring erased
data back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from graph.store import GraphStore

__all__ = ["Tombstones", "tombstone_hash"]


def tombstone_hash(salt: str, kind: str, value: str) -> str:
    """``kind`` is an identifier type, or ``"event"`` for an event ID."""
    return hashlib.sha256(f"{salt}\x1f{kind}\x1f{value}".encode()).hexdigest()


@dataclass
class Tombstones:
    """The erased values ingest must refuse, loaded once per ingest run."""

    salt: str
    hashes: AbstractSet[str]

    @classmethod
    def load(cls, store: GraphStore) -> Tombstones:
        salt, hashes = store.tombstones(secrets.token_hex(16))
        return cls(salt, hashes)

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def erased(self, kind: str, value: str) -> bool:
        return bool(self.hashes) and tombstone_hash(self.salt, kind, value) in self.hashes
