"""Log set-up for every idgraph process (CLI, server, worker): one format, and no raw
e-mail address or phone number in any log line.

Masking sits in the log-record factory, so it covers every logger of the process —
idgraph's, granian's, rq's worker — and the text of logged exceptions, not only the
messages idgraph writes itself (those already mask values where they name them).

``log_format="json"`` (``IDGRAPH_LOG_FORMAT=json``) writes one JSON object a line —
time, level, logger, message, and inside an HTTP request its ``request_id`` (the
caller's ``X-Request-ID`` when it is a sane token, else a new one; sent back in the
response) — for a log system to parse.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from graph.privacy import mask_text

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "install_request_ids",
    "log_access",
    "new_request_id",
    "outside_flask_request_id",
    "request_id",
]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: a caller's request ID is kept only when it looks like one (no log injection)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class MaskingFormatter(logging.Formatter):
    """Masks values in tracebacks too (they are formatted after the record is made)."""

    def formatException(self, ei: Any) -> str:
        return mask_text(super().formatException(ei))


class JsonFormatter(MaskingFormatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


#: the request ID of a request answered outside Flask (app.api.lookup_fast_path)
outside_flask_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id() -> str | None:
    """The current HTTP request's ID, or None outside a request."""
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover - flask is a dependency
        return None
    return g.get("request_id") if has_request_context() else outside_flask_request_id.get()


def new_request_id(given: str) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a new ID."""
    return given if _SANE_ID.match(given) else uuid.uuid4().hex


_ACCESS = logging.getLogger("idgraph.access")


def log_access(method: str, route: str, status: int, seconds: float) -> None:
    """The access line of one request, at INFO (``route``: its template)."""
    if _ACCESS.isEnabledFor(logging.INFO):
        _ACCESS.info("%s %s %s %.1f ms", method, route, status, seconds * 1000)


def configure_logging(level: str | int, fmt: str = "text") -> None:
    """Log to stderr at ``level`` in ``fmt`` (``text`` or ``json``), every record's
    message masked."""
    logging.basicConfig(level=level, format=FORMAT)
    root = logging.getLogger()
    root.setLevel(level)
    formatter = JsonFormatter() if fmt == "json" else MaskingFormatter(FORMAT)
    for handler in root.handlers:
        handler.setFormatter(formatter)
    previous = logging.getLogRecordFactory()
    if getattr(previous, "idgraph_masking", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself later
            return record
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory.idgraph_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def install_request_ids(app: Any) -> None:
    """Give every request an ID (``X-Request-ID``), for logs and the response, and log
    one access line a request at INFO (``idgraph.access``): method, route template
    (never the raw path: it can hold an e-mail), status, milliseconds."""
    from flask import Response, g, request

    @app.before_request
    def _assign() -> None:
        g.request_id = new_request_id(request.headers.get("X-Request-ID", ""))
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started is not None and _ACCESS.isEnabledFor(logging.INFO):
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            log_access(request.method, route, response.status_code,
                       time.perf_counter() - started)  # fmt: skip
        return response
