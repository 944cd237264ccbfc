"""Signing in to the console with an API key, and out again."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, redirect, request, url_for

from app.access.audit import audit_trail
from app.access.keys import KeyRejected, verify_key
from app.access.sessions import (
    ANY_SCOPE,
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    close_session,
    csrf_matches,
    new_csrf_token,
    open_session,
)
from app.console.pages import blp, page, render, resources

__all__ = ["sign_in", "sign_out"]


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if not target:
        return url_for("console.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("console.home")
    return target


def _cookie_options() -> dict[str, Any]:
    return {
        "secure": resources().config.console_secure_cookie,
        "httponly": True,
        "samesite": "Strict",
        "path": "/",
    }


@blp.route("/sign-in", methods=["GET", "POST"])
@page(None)
def sign_in() -> Any:
    """The sign-in form (a password field for the key), and signing in."""
    res = resources()
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return _form(target)
    audit = audit_trail(res)
    if not csrf_matches(
        request.cookies.get(SIGNIN_CSRF_COOKIE, ""), request.form.get("csrf_token")
    ):
        return _form(target, "The form expired or came from elsewhere: try again.", 400)
    try:
        key = verify_key(res.store, request.form.get("api_key", ""))
    except KeyRejected as e:
        audit.record("(invalid key)", "POST console.sign_in", status=401,
                     request_id=g.get("request_id", ""))  # fmt: skip
        return _form(target, str(e).replace("the API key", "This API key"), 401)
    token = open_session(res.redis, res.config.graph_name, key, res.config.console_session_hours)
    audit.record(key.name, "POST console.sign_in", status=303, request_id=g.get("request_id", ""))
    signed = redirect(target, 303)
    signed.set_cookie(SESSION_COOKIE, token, max_age=int(res.config.console_session_hours * 3600),
                        **_cookie_options())  # fmt: skip
    signed.delete_cookie(SIGNIN_CSRF_COOKIE, path="/")
    return signed


def _form(target: str, error: str | None = None, status: int = 200) -> Any:
    """The sign-in form with a fresh double-submit CSRF token (cookie and field)."""
    token = new_csrf_token()
    body, _ = render("sign_in.html", next=target, signin_csrf=token, error=error)
    response = Response(body, status, mimetype="text/html")
    response.set_cookie(SIGNIN_CSRF_COOKIE, token, max_age=3600, **_cookie_options())
    return response


@blp.route("/sign-out", methods=["POST"])
@page(ANY_SCOPE)
def sign_out() -> Any:
    """End the session (the guard checked its CSRF token) and forget the cookie."""
    res = resources()
    close_session(res.redis, res.config.graph_name, request.cookies.get(SESSION_COOKIE))
    response = redirect(url_for("console.sign_in"), 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
