"""API keys: scopes, creation, verification, revocation.

A key is ``idg_`` + 43 URL-safe characters (256 random bits), shown once when it is
created. The store keeps only its SHA-256 hash and a public ``key_id`` (the hash's
first 16 hex digits) to find the record; the full hash is then compared in constant
time. A fast hash is enough here: the keys are random, not passwords, so there is
no dictionary to try (as for GitHub's and Stripe's tokens).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from graph.errors import IdgraphError, InputError
from graph.ingest.events import now_ms
from graph.store import ApiKeyRecord, GraphStore

__all__ = [
    "SCOPES",
    "AccessDenied",
    "KeyRejected",
    "create_key",
    "hash_key",
    "import_key",
    "key_id_of",
    "list_keys",
    "revoke_key",
    "verify_key",
]

#: what each scope lets a key do (README "Security")
SCOPES = {
    "read": "identifier look-ups, profiles, explanations, lineage, the model card",
    "ingest": "POST /v1/events and the collection endpoints",
    "segments": "segments, RFM, audience exports and their files",
    "admin": "erasure, quarantine, keys, the audit trail, background resolve and train",
}
PREFIX = "idg_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: a key given by the operator (``keys import``, the compose secret) must be this long
MIN_IMPORTED_LENGTH = 32


class KeyRejected(IdgraphError):
    """No key, or one that is unknown, revoked or expired (HTTP 401)."""


class AccessDenied(IdgraphError):
    """The key is valid but lacks the scope (HTTP 403)."""


@dataclass(frozen=True)
class VerifiedKey:
    name: str
    key_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    return hash_key(key)[:16]


def _check(name: str, scopes: Iterable[str], expires_at: int | None) -> tuple[str, ...]:
    if not NAME.match(name):
        raise InputError(
            f"key name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-'", field="name"
        )
    chosen = tuple(sorted(set(scopes)))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise InputError(
            f"scope(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(SCOPES)}",
            field="scope",
        )
    if expires_at is not None and expires_at <= now_ms():
        raise InputError("the expiry date is in the past", field="expires")
    return chosen


def _save(store: GraphStore, name: str, key: str, scopes: tuple[str, ...],
          expires_at: int | None) -> ApiKeyRecord:  # fmt: skip
    if any(k.name == name for k in store.api_keys()):
        raise InputError(f"a key named {name!r} exists already (names are never reused)",
                         field="name")  # fmt: skip
    record = ApiKeyRecord(name, key_id_of(key), hash_key(key), scopes, now_ms(), expires_at)
    store.save_api_key(record)
    return record


def create_key(
    store: GraphStore, name: str, scopes: Iterable[str], *, expires_at: int | None = None
) -> tuple[str, ApiKeyRecord]:
    """A new random key (returned once, never stored) and its record."""
    chosen = _check(name, scopes, expires_at)
    key = PREFIX + secrets.token_urlsafe(32)
    return key, _save(store, name, key, chosen, expires_at)


def import_key(
    store: GraphStore, name: str, key: str, scopes: Iterable[str], *, expires_at: int | None = None
) -> ApiKeyRecord | None:
    """Store a key the operator chose (e.g. a compose secret). Idempotent: a key of that
    name with the same hash is left as it is (returns None); another hash is an error."""
    chosen = _check(name, scopes, expires_at)
    key = key.strip()
    if len(key) < MIN_IMPORTED_LENGTH:
        raise InputError(f"an imported key needs at least {MIN_IMPORTED_LENGTH} characters",
                         field="key")  # fmt: skip
    existing = next((k for k in store.api_keys() if k.name == name), None)
    if existing is not None:
        if hmac.compare_digest(existing.hash, hash_key(key)) and existing.revoked_at is None:
            return None
        raise InputError(f"a different or revoked key named {name!r} exists already",
                         field="name")  # fmt: skip
    return _save(store, name, key, chosen, expires_at)


def list_keys(store: GraphStore) -> list[ApiKeyRecord]:
    return store.api_keys()


def revoke_key(store: GraphStore, name: str) -> None:
    from graph.errors import NotFound

    if not store.revoke_api_key(name, now=now_ms()):
        known = any(k.name == name for k in store.api_keys())
        raise NotFound(f"key {name!r} is revoked already" if known else f"no key named {name!r}")


def status_of(record: ApiKeyRecord, now: int | None = None) -> str:
    now = now_ms() if now is None else now
    if record.revoked_at is not None:
        return "revoked"
    if record.expires_at is not None and record.expires_at <= now:
        return "expired"
    return "active"


def verify_key(store: GraphStore, key: str) -> VerifiedKey:
    """The key's identity and scopes; :class:`KeyRejected` when it is unknown, revoked
    or expired (the message never repeats the key)."""
    key = key.strip()
    record = store.api_key(key_id_of(key)) if key else None
    if record is None or not hmac.compare_digest(record.hash, hash_key(key)):
        raise KeyRejected("the API key is not valid")
    state = status_of(record)
    if state != "active":
        raise KeyRejected(f"the API key {record.name!r} is {state}")
    return VerifiedKey(record.name, record.key_id, frozenset(record.scopes))
