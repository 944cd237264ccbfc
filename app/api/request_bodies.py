"""Request bodies as collection clients send them, made plain before Flask reads them.

- gzip-compressed (``Content-Encoding: gzip``), as Segment's and RudderStack's clients
  can send their batches: decompressed, never past the body cap (a small gzip body
  can hold gigabytes);
- JSON under another content type (RudderStack's Node client posts its gzip body as
  ``application/x-www-form-urlencoded``): on the collection paths, as Segment's API
  does, the body is read as JSON whatever the header says.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from app.api.errors import error_payload

__all__ = ["RequestBodies"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: compressed bytes read at a time
CHUNK = 64 * 1024


class RequestBodies:
    """WSGI middleware: a gzip body becomes the plain body (at most ``limit`` bytes);
    bodies on ``json_paths`` are JSON."""

    def __init__(self, app: WSGIApp, *, limit: int, json_paths: frozenset[str]) -> None:
        self.app = app
        self.limit = limit
        self.json_paths = json_paths

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").rstrip("/") in self.json_paths:
            kind = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            if kind != "application/json":
                environ = {**environ, "CONTENT_TYPE": "application/json"}
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding not in ("gzip", "x-gzip"):
            return self.app(environ, start_response)
        try:
            body = self._decompress(environ)
        except _TooLarge:
            return _error(start_response, 413,
                          f"the decompressed request body is over the limit of "
                          f"{self.limit:,} bytes (setting max_request_bytes); "
                          "send smaller batches")  # fmt: skip
        except (zlib.error, EOFError, ValueError) as e:
            return _error(start_response, 400, f"the gzip body is corrupt: {e}")
        environ = dict(environ)
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_CONTENT_ENCODING", None)
        return self.app(environ, start_response)

    def _decompress(self, environ: Environ) -> bytes:
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH") or ""
        remaining = int(length) if length.isdigit() else None
        if remaining is not None and remaining > self.limit:
            raise _TooLarge
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = bytearray()
        while remaining is None or remaining > 0:
            chunk = stream.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            out += inflater.decompress(chunk, self.limit + 1 - len(out))
            if len(out) > self.limit or inflater.unconsumed_tail:
                raise _TooLarge
            if inflater.eof:
                break
        out += inflater.flush()
        if not inflater.eof:
            raise EOFError("the body ends before the gzip stream does")
        if len(out) > self.limit:
            raise _TooLarge
        return bytes(out)


class _TooLarge(Exception):
    pass


def _error(start_response: StartResponse, code: int, message: str) -> list[bytes]:
    """The API's one error shape, answered before Flask sees the request."""
    payload = error_payload(code, message)
    body = json.dumps(payload).encode()
    start_response(f"{code} {payload['status']}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]
