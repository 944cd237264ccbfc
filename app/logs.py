"""Log set-up for every idgraph process (CLI, server, worker): one format, and no raw
e-mail address or phone number in any log line.

Masking sits in the log-record factory, so it covers every logger of the process —
idgraph's, waitress's, rq's worker — and the text of logged exceptions, not only the
messages idgraph writes itself (those already mask values where they name them).
"""

from __future__ import annotations

import logging
from typing import Any

from graph.privacy import mask_text

__all__ = ["configure_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFormatter(logging.Formatter):
    """Masks values in tracebacks too (they are formatted after the record is made)."""

    def formatException(self, ei: Any) -> str:
        return mask_text(super().formatException(ei))


def configure_logging(level: str | int) -> None:
    """Log to stderr at ``level``, every record's message masked."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(MaskingFormatter(FORMAT))
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
