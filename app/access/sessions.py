"""Console sessions: an API key signed in once, then a cookie, with CSRF tokens.

Signing in with a key (:func:`open_session`) stores a session on the shared Redis
under the SHA-256 of a random token; the browser holds only the token, in a
``Secure``, ``HttpOnly``, ``SameSite=Strict`` cookie. Every request re-reads the
key's record (:func:`find_session`), so revoking a key or its expiry ends its
sessions at once, and the scopes shown are the key's as they are now. Each session
has its own CSRF token, required on every form the console posts; the sign-in form,
before any session exists, uses a double-submit cookie (:data:`SIGNIN_CSRF_COOKIE`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

import redis

from app.access.keys import VerifiedKey, status_of
from graph.errors import StoreUnavailable
from graph.store import GraphStore

__all__ = [
    "ANY_SCOPE",
    "SESSION_COOKIE",
    "SIGNIN_CSRF_COOKIE",
    "ConsoleSession",
    "close_session",
    "csrf_matches",
    "find_session",
    "new_csrf_token",
    "open_session",
]

#: the scope of console pages any signed-in key may see (the home page, sign-out)
ANY_SCOPE = "any"
SESSION_COOKIE = "idgraph_session"
SIGNIN_CSRF_COOKIE = "idgraph_signin_csrf"


@dataclass(frozen=True)
class ConsoleSession:
    key: VerifiedKey
    csrf_token: str
    signed_in_at: float


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    return bool(expected) and bool(presented) and hmac.compare_digest(expected, presented or "")


def _name(graph: str, token: str) -> str:
    return f"idgraph:console:{graph}:{hashlib.sha256(token.encode()).hexdigest()}"


def open_session(client: redis.Redis, graph: str, key: VerifiedKey, hours: float) -> str:
    """A new session for ``key``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    body = {"key_id": key.key_id, "csrf": new_csrf_token(), "at": time.time()}
    try:
        client.set(_name(graph, token), json.dumps(body), ex=max(60, int(hours * 3600)))
    except (redis.exceptions.RedisError, OSError) as e:
        raise StoreUnavailable(f"cannot keep the console session (Redis): {e}") from e
    return token


def find_session(
    client: redis.Redis, store: GraphStore, graph: str, token: str | None
) -> ConsoleSession | None:
    """The session a cookie stands for, with its key as it is now; None when there is
    none, it timed out, or its key was revoked or expired since."""
    if not token:
        return None
    try:
        raw = client.get(_name(graph, token))
    except (redis.exceptions.RedisError, OSError) as e:
        raise StoreUnavailable(f"cannot read the console session (Redis): {e}") from e
    if raw is None:
        return None
    try:
        body = json.loads(raw)
        record = store.api_key(str(body["key_id"]))
    except (ValueError, KeyError, TypeError):
        return None
    if record is None or status_of(record) != "active":
        close_session(client, graph, token)
        return None
    key = VerifiedKey(record.name, record.key_id, frozenset(record.scopes))
    return ConsoleSession(key, str(body.get("csrf", "")), float(body.get("at", 0.0)))


def close_session(client: redis.Redis, graph: str, token: str | None) -> None:
    if not token:
        return
    try:
        client.delete(_name(graph, token))
    except (redis.exceptions.RedisError, OSError) as e:
        raise StoreUnavailable(f"cannot end the console session (Redis): {e}") from e
