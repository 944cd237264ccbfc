"""The look-up's fast path: ``GET /v1/identifiers/{type}/{value}/profile`` answered in
front of Flask's request machinery — the call a support desk and an ad server make
hundreds of times a second.

A look-up's own work (the key's check, the identifier's ready document, the audit
entry) costs about 0.3 ms of CPU; through Flask's request context and hooks,
flask-smorest and webargs the same request cost about 1 ms (docs/benchmarks.md,
2026-12-03). The fast path takes the same steps with the same functions as
:mod:`app.api.guard` and the view (:func:`app.api.identifiers.identifier_profile`):

1. the route, by the app's own URL map (both paths agree on what a path means);
2. ``min_confidence``, the only query argument, and the key (header, ``read`` scope);
3. the look-up itself, which only reads;
4. then what a request answered leaves behind: the key's rate-limit count, its
   ``last_used_at``, the audit entry, the request's metrics, its ``X-Request-ID``
   and its access-log line.

Whatever it does not answer itself — no key, a refused key or scope, a query
argument it does not know, an invalid type or value (422), a rate-limited key, a
store error — goes to Flask as it came, before anything was written for it, so every
error keeps its one shape and its one audit entry. (A rate-limited key's request is
counted here and again there; it is over its limit either way.)
tests/integration/test_lookup_fast_path.py holds both paths to the same answers,
headers, audit entries and metrics.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.access.keys import KeyRejected, VerifiedKey, verify_key
from app.api.errors import error_payload
from app.api.guard import Guard, audit_target, presented_key
from app.logs import log_access, new_request_id, outside_flask_request_id
from app.metrics import Metrics
from app.profiles import lookup_identifier_json
from app.resources import Resources
from graph.errors import IdgraphError, NotFound

__all__ = ["LookupFastPath"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ENDPOINT = "identifiers.identifier_profile"
PREFIX = "/v1/identifiers/"
SCOPE = "read"
#: a plain decimal, as callers write a confidence; anything else is Flask's to judge
_DECIMAL = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


class LookupFastPath:
    """WSGI middleware: answers plain look-ups itself, hands everything else to
    ``wsgi_app`` (the Flask app's)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        # what the guard, the metrics and the view use (installed before this)
        self.res: Resources = app.extensions["idgraph"]
        self.guard: Guard = app.extensions["idgraph_guard"]
        self.metrics: Metrics = app.extensions["idgraph_metrics"]

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "").startswith(
            PREFIX
        ):
            after: list[Callable[[], None]] = []
            answer = self._answer(environ, after)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return _Then(body, after) if after else [body]
        return self.wsgi_app(environ, start_response)

    def _answer(
        self, environ: Environ, after: list[Callable[[], None]]
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The answer, or None when Flask is to answer (nothing written for it yet;
        what ``after`` got is dropped then: Flask looks the profile up again);
        ``after`` gets what is to run once the answer is sent."""
        started = time.perf_counter()
        try:
            rule, args = self.app.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:  # no route, a redirect, another method: Flask's
            return None
        if rule.endpoint != ENDPOINT:
            return None
        wanted = min_confidence_of(environ.get("QUERY_STRING", ""))
        presented = presented_key(environ.get("HTTP_AUTHORIZATION", ""))
        if wanted is False or presented is None:
            return None
        rid = new_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        token = outside_flask_request_id.set(rid)  # in this request's log records
        try:
            answered = self._serve(presented, args, wanted, rid, after)
            if answered is None:
                return None
            status, text = answered
            seconds = time.perf_counter() - started
            self.metrics.count_request(rule.rule, "GET", status, seconds)
            log_access("GET", rule.rule, status, seconds)
        finally:
            outside_flask_request_id.reset(token)
        body = text.encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("X-Request-ID", rid)]  # fmt: skip
        return f"{status} {HTTP_STATUS_CODES[status].upper()}", headers, body

    def _serve(
        self, presented: str, args: Mapping[str, Any], wanted: float | None, rid: str,
        after: list[Callable[[], None]],
    ) -> tuple[int, str] | None:  # fmt: skip
        """The status and body, with what an answered request writes; None when
        Flask is to answer (nothing written for it yet)."""
        res, guard = self.res, self.guard
        res.store.begin_snapshot()
        try:
            found = self._look_up(res, presented, args, wanted, after)
            if found is None:
                return None
            key, status, text = found
            if guard.rate_limited(key, res.redis, res.config.rate_limit_per_minute):
                return None  # the 429, its header and its audit entry: Flask's
            try:
                guard.touch(key, res.store)
            except IdgraphError:  # the store refused a write: Flask's 503
                return None
            guard.record(key.name, f"GET {ENDPOINT}", audit_target(args), status, None, rid)
        finally:
            res.store.end_snapshot()
        return status, text

    def _look_up(
        self, res: Resources, presented: str, args: Mapping[str, Any], wanted: float | None,
        after: list[Callable[[], None]],
    ) -> tuple[VerifiedKey, int, str] | None:  # fmt: skip
        """The key, the status and the body; None when Flask is to answer. Only reads."""
        try:
            key = verify_key(res.store, presented)
            if not key.allows(SCOPE):
                return None
            text = lookup_identifier_json(
                res.store, res.registry, args["type_name"], args["value"],
                min_confidence=res.config.min_confidence if wanted is None else wanted,
                settings=res.resolve_settings(), purchase_types=res.config.purchase_types,
                later=after.append,
            )  # fmt: skip
        except KeyRejected:
            return None
        except NotFound as e:  # as the API's error handler words it (app.api.errors)
            payload = error_payload(404, str(e))
            return key, 404, self.app.json.dumps(payload, separators=(",", ":")) + "\n"
        except Exception:  # an invalid value (422), a store error (503), a bug: Flask's
            return None  # (which answers each in the API's one error shape, and logs)
        return key, 200, text


def min_confidence_of(query: str) -> float | bool | None:
    """``min_confidence`` from a query string: None when absent, the number when it
    is a plain decimal in [0, 1], False for anything else (Flask's to judge)."""
    if not query:
        return None
    name, _, value = query.partition("=")
    if name != "min_confidence" or not _DECIMAL.match(value):
        return False  # another argument, a repeated one, an odd number
    number = float(value)
    return number if 0 <= number <= 1 else False


class _Then:
    """A response body that runs ``after`` once the server has sent it (WSGI servers
    call ``close`` when done with the body)."""

    def __init__(self, body: bytes, after: list[Callable[[], None]]) -> None:
        self.body = body
        self.after = after

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    def close(self) -> None:
        for call in self.after:
            call()
