"""API keys: hashed records, revocation and last use."""

from __future__ import annotations

import logging

from graph.store.records import (
    ApiKeyRecord,
    Row,
)
from graph.store.runner import StoreRunner

logger = logging.getLogger(__name__)

__all__ = ["KeyRepository"]


class KeyRepository(StoreRunner):
    """API keys (a part of :class:`graph.store.GraphStore`)."""

    #: the Cypher files (cypher/) these methods run
    QUERIES: tuple[str, ...] = (
        "api_key",
        "api_keys",
        "revoke_api_key",
        "save_api_key",
        "touch_api_key",
    )

    def save_api_key(self, record: ApiKeyRecord) -> None:
        params = {
            "name": record.name,
            "key_id": record.key_id,
            "hash": record.hash,
            "scopes": list(record.scopes),
            "now": record.created_at,
            "expires_at": record.expires_at,
        }
        with self._changing("keys"):
            self._write("save_api_key", params)

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key's record (cached per process while no key changes: every request
        verifies one; a revocation reaches every process at its next request)."""

        def load() -> ApiKeyRecord | None:
            rows = self._read("api_key", {"key_id": key_id})
            return _api_key(rows[0]) if rows else None

        return self._cached("keys", key_id, load)

    def api_keys(self) -> list[ApiKeyRecord]:
        return [_api_key(row) for row in self._read("api_keys")]

    def revoke_api_key(self, name: str, *, now: int) -> bool:
        """True when a key of that name was active and is revoked now."""
        with self._changing("keys"):
            return bool(self._write("revoke_api_key", {"name": name, "now": now}))

    def touch_api_key(self, key_id: str, *, now: int) -> None:
        """Last use (not a change :meth:`api_key`'s cache has to see)."""
        self._write("touch_api_key", {"key_id": key_id, "now": now})


def _api_key(row: Row) -> ApiKeyRecord:
    name, key_id, hash_, scopes, created, expires, revoked, used = row
    return ApiKeyRecord(name, key_id, hash_, tuple(scopes or ()), int(created),
                        expires, revoked, used)  # fmt: skip
