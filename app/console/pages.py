"""The console's blueprint and what every page shares: the scope a view needs, the
signed-in key, rendering with the CSRF token, and the security headers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, render_template, request

from app.access.sessions import ConsoleSession
from app.resources import Resources
from graph.errors import InputError

__all__ = [
    "blp",
    "confidence",
    "is_json_view",
    "json_view",
    "page",
    "render",
    "resources",
    "session",
]

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)

#: no inline script or style, nothing from another origin, never in a frame
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def page(scope: str | None) -> Callable[[F], F]:
    """Declare the scope a console view needs (None: open, e.g. the sign-in page).
    The request guard (:mod:`app.api.guard`) enforces it with the session cookie."""

    def decorator(func: F) -> F:
        func._idgraph_scope = scope  # type: ignore[attr-defined]
        func._idgraph_console = scope is not None  # type: ignore[attr-defined]
        return func

    return decorator


def json_view(func: F) -> F:
    """A console view scripts call: 401 JSON instead of the sign-in page."""
    func._idgraph_json = True  # type: ignore[attr-defined]
    return func


def is_json_view() -> bool:
    """Whether the request's view answers scripts (JSON), not people (a page)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "_idgraph_json", False))


def confidence(raw: str | None, default: float) -> float:
    """A ``min_confidence`` from a form or query string (``default`` when empty)."""
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan  # refused below, like a number out of range
    if not 0 <= value <= 1:
        raise InputError("min_confidence must be a number from 0 to 1", field="min_confidence")
    return value


def resources() -> Resources:
    res: Resources = current_app.extensions["idgraph"]
    return res


def session() -> ConsoleSession:
    signed_in: ConsoleSession = g.console_session
    return signed_in


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A page with what the layout needs: the key's name and scopes, the CSRF token."""
    signed_in: ConsoleSession | None = g.get("console_session")
    scopes = signed_in.key.scopes if signed_in else frozenset()
    return (
        render_template(
            template,
            signed_in=signed_in,
            scopes=scopes,
            csrf_token=signed_in.csrf_token if signed_in else "",
            **context,
        ),
        status,
    )


@blp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"  # pages hold personal data
    return response
