"""The audit trail: who (which key) did what to which customer, and when.

Append-only: a Redis stream per graph (``idgraph:audit:<graph>``) on the shared Redis
(the embedded server by default), written with ``XADD`` and never edited; entries
older than ``audit_retention_days`` are trimmed as new ones arrive (``MINID``).
Entries hold identifier values only masked (:func:`graph.privacy.mask_value`) and
profile IDs, never a raw e-mail or phone number, so an erasure leaves nothing
of the customer's values here. Stream IDs (``<ms>-<n>``) are the paging cursors.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from graph.errors import InputError, StoreUnavailable
from graph.ingest.events import DAY_MS, format_ts, now_ms

__all__ = ["AuditTrail", "audit_trail", "cli_actor"]

logger = logging.getLogger(__name__)

#: the most entries one page returns
MAX_PAGE = 1000
#: the largest part of a stream ID (an unsigned 64-bit integer)
_MAX_PART = 2**64 - 1


def cli_actor() -> str:
    """Who a command-line action is recorded as: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container without passwd entry)
        return "cli"


@dataclass
class AuditTrail:
    redis: redis.Redis
    graph_name: str
    retention_days: float = 365.0

    @property
    def stream(self) -> str:
        return f"idgraph:audit:{self.graph_name}"

    def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        *,
        status: int | None = None,
        detail: Mapping[str, Any] | None = None,
        request_id: str = "",
    ) -> str:
        """Append one entry; returns its ID. ``target`` must already be masked."""
        fields = {
            "key": actor,
            "action": action,
            "target": target,
            "status": "" if status is None else str(status),
            "request_id": request_id,
            "detail": json.dumps(dict(detail or {}), sort_keys=True, default=str),
        }
        minid = now_ms() - int(self.retention_days * DAY_MS)
        try:
            entry_id = self.redis.xadd(self.stream, fields, minid=minid, approximate=True)  # type: ignore[arg-type]
        except redis.exceptions.RedisError as e:
            raise StoreUnavailable(f"cannot write the audit trail: {e}") from e
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    def entries(
        self,
        *,
        since: int | None = None,
        key: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Oldest first, from ``since`` (ms) or after the cursor ``after``; at most
        ``limit``. Returns the page and the cursor of the next one (None: the end)."""
        limit = max(1, min(limit, MAX_PAGE))
        cursor = f"({_stream_id(after)}" if after else (_since(since) if since is not None else "-")
        page: list[dict[str, Any]] = []
        try:
            while len(page) < limit:
                batch: Any = self.redis.xrange(self.stream, min=cursor, max="+", count=limit)
                for raw_id, raw in batch:
                    entry = _entry(raw_id, raw)
                    cursor = f"({entry['id']}"
                    if key is None or entry["key"] == key:
                        page.append(entry)
                        if len(page) == limit:
                            break
                if len(batch) < limit:
                    return page, None
        except redis.exceptions.RedisError as e:
            raise StoreUnavailable(f"cannot read the audit trail: {e}") from e
        return page, page[-1]["id"]

    def trim(self) -> int:
        """Drop entries past the retention; returns how many were dropped."""
        minid = now_ms() - int(self.retention_days * DAY_MS)
        return int(self.redis.xtrim(self.stream, minid=minid, approximate=False))


def _since(since: int) -> str:
    """A stream ID bound from a time in ms: stream IDs start at 0 (1970), so an
    earlier time means from the start and a later one than IDs can hold, none."""
    return str(min(max(since, 0), _MAX_PART))


def _stream_id(cursor: str) -> str:
    """Check a paging cursor is a stream ID Redis accepts (``<ms>-<n>``)."""
    ms, _, seq = cursor.partition("-")
    if not (ms.isdigit() and seq.isdigit()) or int(ms) > _MAX_PART or int(seq) > _MAX_PART:
        raise InputError(f"not an audit cursor: {cursor[:40]!r} (pass a page's `next`)")
    return f"{int(ms)}-{int(seq)}"


def audit_trail(res: Any) -> AuditTrail:
    """The audit trail of ``res``'s graph (``res``: :class:`app.resources.Resources`)."""
    return AuditTrail(res.redis, res.config.graph_name, res.config.audit_retention_days)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(raw_id: Any, raw: Mapping[Any, Any]) -> dict[str, Any]:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    entry_id = _text(raw_id)
    ms = int(entry_id.split("-", 1)[0])
    return {
        "id": entry_id,
        "at": format_ts(ms),
        "key": fields.get("key", ""),
        "action": fields.get("action", ""),
        "target": fields.get("target", ""),
        "status": int(fields["status"]) if fields.get("status") else None,
        "request_id": fields.get("request_id", ""),
        "detail": json.loads(fields.get("detail") or "{}"),
    }
