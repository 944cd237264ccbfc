"""One JSON error shape for every error: ``{code, status, message, errors?}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from app.statuses import status_for
from graph.errors import IdgraphError, InputError

__all__ = ["error_payload", "register_error_handlers", "status_for"]

logger = logging.getLogger(__name__)


def error_payload(code: int, message: str, errors: Any = None) -> dict[str, Any]:
    from http import HTTPStatus

    payload: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        payload["errors"] = errors
    return payload


def register_error_handlers(app: Flask, api: Api) -> None:
    def handle_http(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
        data = getattr(error, "data", None) or {}
        code = error.code or 500
        message = data.get("message") or error.description or error.name
        errors = data.get("errors") or data.get("messages")
        if code == 422 and not data.get("message"):
            message = "the request is not valid; see errors"
        if code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            message = (f"the request body is over the limit of {limit:,} bytes "
                       "(setting max_request_bytes); send smaller batches")  # fmt: skip
        return error_payload(code, str(message), errors), code, data.get("headers") or {}

    def handle_idgraph(error: IdgraphError) -> tuple[dict[str, Any], int]:
        code = status_for(error)
        if code >= 500:
            logger.error("request failed: %s", error)
        errors = None
        if isinstance(error, InputError) and error.field:
            errors = {error.field: [str(error)]}
        return error_payload(code, str(error), errors), code

    def handle_unexpected(error: Exception) -> tuple[dict[str, Any], int]:
        if isinstance(error, HTTPException):
            return handle_http(error)[:2]
        logger.exception("unexpected error", exc_info=error)
        return error_payload(500, InternalServerError.description), 500

    api.handle_http_exception = handle_http
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(IdgraphError, handle_idgraph)
    app.register_error_handler(Exception, handle_unexpected)
