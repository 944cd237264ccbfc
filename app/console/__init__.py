"""The web console: server-rendered pages for support agents, marketers and data
teams, served by the API's Flask app at ``/``.

Signed in with an API key (:mod:`app.access.sessions`); the request guard checks
each page's scope as for the API. One module per area: :mod:`.signin`,
:mod:`.customers` (search, profile, cluster picture, erasure), :mod:`.marketing`
(segments, exports, RFM), :mod:`.operations` (health, quarantine, runs); pure
helpers :mod:`.search`, :mod:`.cluster`, :mod:`.charts`, :mod:`.segment_form`.
Every asset is in ``static/`` (cytoscape.js from npm, pinned in package.json).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from app.console.pages import blp, is_json_view, render
from app.statuses import status_for
from graph.errors import IdgraphError

__all__ = ["install"]

logger = logging.getLogger(__name__)


def _answer(status: int, message: str) -> Any:
    if is_json_view():
        return jsonify({"code": status, "status": HTTPStatus(status).phrase,
                        "message": message}), status  # fmt: skip
    back = request.referrer if request.referrer and request.referrer != request.url else None
    return render("error.html", status, title=HTTPStatus(status).phrase, message=message,
                  back=back)  # fmt: skip


@blp.errorhandler(IdgraphError)
def _idgraph_error(error: IdgraphError) -> Any:
    status = status_for(error)
    if status >= 500:
        logger.error("console page failed: %s", error)
    return _answer(status, str(error))


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    return _answer(error.code or 500, str(error.description or error.name))


@blp.errorhandler(Exception)
def _unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error(error)
    logger.exception("console page failed", exc_info=error)
    return _answer(500, "something went wrong on the server; it is in the server's log")


def install(app: Flask) -> None:
    """Register the console's pages on ``app`` (before the request guard)."""
    from app.console import customers, marketing, operations, signin  # noqa: F401  (routes)

    app.register_blueprint(blp)
