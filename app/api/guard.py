"""The HTTP side of access control: every route's scope, keys, limits, the audit trail.

Each view declares what it needs with :func:`requires` (which also documents the
operation's security in the OpenAPI document) or :func:`public` (no personal data:
health, the OpenAPI document, the docs page, static assets). A route that declares
nothing needs ``admin``: forgetting a declaration never opens a route.

Console pages (:mod:`app.console`, views marked ``_idgraph_console``) take the same
scopes, limits and audit, with a session cookie instead of the header
(:mod:`app.access.sessions`), a CSRF token on every form, and the sign-in page
instead of 401.

Per request, in this order: the body cap (``max_request_bytes`` → 413), the key
(``Authorization: Bearer KEY``, or HTTP Basic with the key as user name as Segment's
clients send it → 401 with ``WWW-Authenticate``), the scope (→ 403), the key's rate
limit (a fixed one-minute window counted on the shared Redis → 429 with
``Retry-After``). Every authenticated request, and every refused one, is recorded
in the audit trail with identifier values masked.

Plain look-ups take the same steps with the same methods in front of Flask
(:mod:`app.api.lookup_fast_path`); a change here is a change there.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis
from flask import Flask, Response, current_app, g, jsonify, redirect, request, url_for
from flask_smorest import Blueprint
from werkzeug.exceptions import BadRequest, Forbidden, TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from app.access.audit import AuditTrail, audit_trail
from app.access.keys import SCOPES, KeyRejected, VerifiedKey, verify_key
from app.access.sessions import ANY_SCOPE, SESSION_COOKIE, csrf_matches, find_session
from app.console.pages import is_json_view
from graph.errors import StoreUnavailable
from graph.ingest.events import now_ms
from graph.privacy import mask_value

__all__ = [
    "SECURITY_SCHEME",
    "WRITE_KEY_SCHEME",
    "Guard",
    "audit_target",
    "install",
    "presented_key",
    "public",
    "requires",
]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

SECURITY_SCHEME = "apiKey"
#: the same keys sent as Segment's and RudderStack's clients send their write key:
#: HTTP Basic, the key as user name, no password
WRITE_KEY_SCHEME = "writeKey"
#: endpoints of Flask and flask-smorest themselves that hold no data
OPEN_ENDPOINTS = frozenset(
    {
        "static",
        "assets.static",
        "console.static",
        "api-docs.openapi_json",
        "api-docs.openapi_swagger_ui",
        "api-docs.openapi_redoc",
    }
)
#: write a key's ``last_used_at`` at most this often (seconds), not on every request
TOUCH_EVERY = 60.0
RATE_WINDOW = 60


def requires(scope: str, *, write_key: bool = False) -> Callable[[F], F]:
    """Declare the scope a view needs (documented in the OpenAPI document too);
    ``write_key``: also document the Basic form Segment's clients send. (Every view
    takes both forms; the document names the one its callers use.)"""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(func: F) -> F:
        func._idgraph_scope = scope  # type: ignore[attr-defined]
        lines = inspect.cleandoc(func.__doc__ or "").splitlines()
        rest = "\n".join(lines[1:]).strip()  # flask-smorest: line 1 is the summary
        needs = f"Needs an API key with the `{scope}` scope."
        security = [{SECURITY_SCHEME: [scope]}]
        if write_key:
            security.append({WRITE_KEY_SCHEME: [scope]})
            needs += " Segment's clients send it as their write key (HTTP Basic user name)."
        documented: F = Blueprint.doc(
            security=security,
            description=f"{rest}\n\n{needs}" if rest else needs,
        )(func)
        return documented

    return decorator


def public(func: F) -> F:
    """Declare a view open without a key (it must hold no personal data)."""
    func._idgraph_scope = None  # type: ignore[attr-defined]
    return Blueprint.doc(security=[])(func)


def _scope_of(endpoint: str | None) -> str | None:
    """The scope an endpoint needs; None when it is open."""
    if endpoint is None or endpoint in OPEN_ENDPOINTS:
        return None
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "_idgraph_scope", "admin")


def _is_console(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "_idgraph_console", False))


def _rate_message(res: Any, key: VerifiedKey, retry: int) -> str:
    return (f"rate limit of {res.config.rate_limit_per_minute} requests a minute for key "
            f"{key.name!r} reached; retry in {retry} s")  # fmt: skip


def presented_key(header: str) -> str | None:
    """The key an ``Authorization`` header presents: ``Bearer KEY``, or HTTP Basic with
    the key as user name (Segment's and RudderStack's clients); None without one."""
    kind, _, value = header.partition(" ")
    if kind.lower() == "bearer":
        return value.strip() or None
    if kind.lower() == "basic":  # Segment/RudderStack clients: the write key as user name
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user or None
    return None


def _error(code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    from app.api.errors import error_payload  # the one error shape

    response = jsonify(error_payload(code, message))
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def audit_target(view_args: Mapping[str, Any] | None) -> str:
    """What the request is about, masked: ``email:j***@e***.com``, a profile ID…"""
    args = view_args or {}
    if "type_name" in args and "value" in args:
        return f"{args['type_name']}:{mask_value(str(args['type_name']), str(args['value']))}"
    for name in ("profile_id", "segment_id", "export_id", "name"):
        if name in args:
            return f"{name.removesuffix('_id')}:{args[name]}"
    return ""


class Guard:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def resources(self) -> Any:
        return self.app.extensions["idgraph"]

    def audit(self) -> AuditTrail:
        return audit_trail(self.resources())

    def before(self) -> BaseResponse | None:
        g.api_key = None  # g.request_id: set first by app.logs.install_request_ids
        scope = _scope_of(request.endpoint)
        if scope is None:
            return None
        res = self.resources()
        if _is_console(request.endpoint):
            return self._console(res, scope)
        presented = presented_key(request.headers.get("Authorization", ""))
        challenge = {"WWW-Authenticate": 'Bearer realm="idgraph", charset="UTF-8"'}
        if presented is None:
            self._record("(no key)", 401)
            return _error(401, "an API key is needed: send `Authorization: Bearer KEY` "
                          "(`idgraph keys create`)", challenge)  # fmt: skip
        try:
            key = verify_key(res.store, presented)
        except KeyRejected as e:
            self._record("(invalid key)", 401)
            return _error(401, str(e), {**challenge, "WWW-Authenticate":
                          challenge["WWW-Authenticate"] + ', error="invalid_token"'})  # fmt: skip
        if not key.allows(scope):
            self._record(key.name, 403)
            has = ", ".join(sorted(key.scopes))
            return _error(403, f"the API key {key.name!r} does not have the {scope!r} scope "
                          f"this operation needs (it has: {has})")  # fmt: skip
        retry = self.rate_limited(key, res.redis, res.config.rate_limit_per_minute)
        if retry:
            self._record(key.name, 429)
            return _error(429, _rate_message(res, key, retry), {"Retry-After": str(retry)})
        self.touch(key, res.store)
        g.api_key = key  # the answer is recorded once it is known (after_request)
        return None

    def _console(self, res: Any, scope: str) -> BaseResponse | None:
        """Console pages: the session cookie instead of a header, CSRF tokens on
        every form, sign-in instead of 401; the same scopes, limits and audit."""
        session = find_session(res.redis, res.store, res.config.graph_name,
                               request.cookies.get(SESSION_COOKIE))  # fmt: skip
        if session is None:
            if is_json_view():
                return _error(401, "not signed in to the console, or the session ended")
            return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
        key = session.key
        g.console_session = session
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            presented = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
            if not csrf_matches(session.csrf_token, presented):
                self._record(key.name, 400)
                raise BadRequest("the form is out of date or was not sent by the console "
                                 "(CSRF token missing or wrong): reload the page")  # fmt: skip
        if scope != ANY_SCOPE and not key.allows(scope):
            self._record(key.name, 403)
            raise Forbidden(f"the key {key.name!r} you signed in with does not have the "
                            f"{scope!r} scope this page needs")  # fmt: skip
        retry = self.rate_limited(key, res.redis, res.config.rate_limit_per_minute)
        if retry:
            self._record(key.name, 429)
            raise TooManyRequests(_rate_message(res, key, retry))
        self.touch(key, res.store)
        g.api_key = key
        return None

    def after(self, response: Response) -> Response:
        key: VerifiedKey | None = g.get("api_key")
        if key is not None and response.status_code not in (429,):
            self._record(key.name, response.status_code)
        return response

    def _record(self, actor: str, status: int) -> None:
        self.record(actor, f"{request.method} {request.endpoint}",
                    audit_target(request.view_args), status,
                    g.get("audit_detail"), g.get("request_id", ""))  # fmt: skip

    def record(self, actor: str, action: str, target: str, status: int,
               detail: dict[str, Any] | None, request_id: str) -> None:  # fmt: skip
        """One audit entry; a store that cannot take it is logged, the answer not held."""
        try:
            self.audit().record(
                actor, action, target, status=status, detail=detail, request_id=request_id
            )
        except StoreUnavailable as e:  # the answer is not held back; the gap is logged
            logger.error("audit entry lost (%s): %s", action, e)

    def rate_limited(self, key: VerifiedKey, client: redis.Redis, per_minute: int) -> int:
        """0, or the seconds until the key may call again."""
        if per_minute <= 0:
            return 0
        now = time.time()
        window = int(now // RATE_WINDOW)
        name = f"idgraph:ratelimit:{key.key_id}:{window}"
        try:
            pipe = client.pipeline()
            pipe.incr(name)
            pipe.expire(name, RATE_WINDOW * 2)
            count = int(pipe.execute()[0])
        except (redis.exceptions.RedisError, OSError) as e:
            # fail open: the limit protects capacity, and a Redis outage must not take
            # look-ups (which need only the store) down with it; the gap is logged
            logger.error("rate limit not counted (Redis unreachable): %s", e)
            return 0
        if count <= per_minute:
            return 0
        return max(1, math.ceil((window + 1) * RATE_WINDOW - now))

    def touch(self, key: VerifiedKey, store: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(key.key_id, -TOUCH_EVERY) < TOUCH_EVERY:
                return
            self._touched[key.key_id] = now
        store.touch_api_key(key.key_id, now=now_ms())


def install(app: Flask) -> None:
    """Guard every request of ``app`` (call after the blueprints are registered)."""
    guard = Guard(app)
    app.extensions["idgraph_guard"] = guard  # also the look-up's fast path's
    app.before_request(guard.before)
    app.after_request(guard.after)
