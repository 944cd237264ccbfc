"""Taking events in over HTTP: one path for ``POST /v1/events`` and the
Segment-compatible calls (``/v1/batch``, ``/v1/track``…).

A batch is parsed and stored (bad events and bad parts rejected with their reason,
the rest kept), its rejects appended to ``<data dir>/rejects/api-<date>.jsonl``, and
the profiles of the identifiers it carried updated before the answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.realtime import is_small
from app.resources import Resources
from graph.errors import StoreUnavailable
from graph.ingest.events import Identifier
from graph.ingest.ingester import RejectFile
from graph.ingest.readers import RawRecord
from graph.resolve.resolution import ResolveReport, update_profiles

__all__ = ["REALTIME_LOCK_HOLD", "REALTIME_LOCK_POLL", "REALTIME_LOCK_WAIT", "ingest_batch"]

logger = logging.getLogger(__name__)

#: seconds a request waits for a running resolve before answering without its update
REALTIME_LOCK_WAIT = 30.0
#: seconds Redis keeps a real-time update's lock if its holder dies (kill -9) mid-update
REALTIME_LOCK_HOLD = 20.0
#: seconds between a waiting update's attempts at the lock (redis-py's default, 0.1 s,
#: added up to 100 ms to every update that found it held)
REALTIME_LOCK_POLL = 0.005


class RequestRejects(RejectFile):
    """One request's rejects, appended to the day's file in a single write.

    Several server threads and processes append to the same file: one ``write`` on a
    file opened with ``O_APPEND`` lands whole, so lines of two requests never mix.
    """

    def __init__(self, path: Path, *, source: str) -> None:
        super().__init__(path, source=source)
        self._lines: list[str] = []

    def write(self, reject: Any) -> None:
        self._lines.append(self.line(reject))

    def close(self) -> None:
        if not self._lines:
            return
        data = "".join(self._lines).encode()
        self._lines = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError as e:  # the answer still lists them; the events are stored
            logger.error("rejects not recorded in %s: %s", self.path, e.strerror or e)


def _mark_profiles(res: Resources, identifiers: set[Identifier]) -> None:
    """The ready documents of these identifiers' profiles go stale: their new events
    were stored without the real-time update that marks them."""
    try:
        res.store.mark_profiles_of(identifiers)
    except StoreUnavailable as e:
        # served as they were until these profiles change again or the next resolve
        # refreshes their facts (it refreshes the profiles whose events changed)
        logger.warning("profiles of new events not marked stale: %s", e)


def ingest_batch(
    res: Resources, records: Iterable[RawRecord], *, received: int, source: str
) -> dict[str, Any]:
    """Store a batch, record its rejects, update its profiles; the API's answer.

    ``errors[].index`` is the position of the event (or message) in the request.
    """
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    sink = RequestRejects(res.config.data_dir / "rejects" / f"api-{day}.jsonl", source=source)
    realtime = res.config.realtime_updates
    # with real-time updates, the update marks the profiles it changes (the ingest
    # would mark every profile of the batch's identifiers first: a store round trip
    # that looks each of them up again, about a tenth of a request's store work). A
    # request that fails part-way (a store outage between two of its batches) leaves
    # the written batches' profiles to its retry: duplicates update profiles too
    ingester = res.ingester(collect_touched=True, mark_profiles=not realtime)
    report = ingester.ingest_records(records, rejects=sink)
    profiles = None
    if realtime and report.touched:
        # a small request's update takes the lock before bulk ones (app.resolve_lock);
        # the requests an update serves are all small or all bulk (app.realtime)
        small = is_small(len(report.touched))

        def update(
            touched: set[Identifier], alone: set[Identifier], handoff: Callable[[], None]
        ) -> ResolveReport | None:
            lock = res.resolve_lock(wait=REALTIME_LOCK_WAIT, hold=REALTIME_LOCK_HOLD,
                                    poll=REALTIME_LOCK_POLL, first=small)  # fmt: skip
            return update_profiles(res.store, res.registry, touched, res.resolve_settings(),
                                   lock=lock, alone=alone, unlocked=handoff)  # fmt: skip

        updated = None
        try:
            # with the waiting requests of this process, as one update (app.realtime)
            seen_alone = report.touched - report.touched_together
            updated = res.update_queue.submit(report.touched_together, seen_alone, update)
            profiles = updated.to_dict() if updated else None
        except StoreUnavailable as e:
            # the events are stored; their profiles follow on a retry of this
            # request (duplicates update profiles too) or at the next resolve
            logger.warning("real-time profile update skipped: %s", e)
        if updated is None:  # no update (too large a neighbourhood, or failed)
            _mark_profiles(res, report.touched)
    errors = []
    for reject in report.rejects:
        row = reject.to_dict()
        row["index"] = row.pop("line")
        errors.append(row)
    return {
        "received": received,
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "rejected_parts": report.rejected_parts,
        "errors": errors,
        "errors_truncated": report.rejected + report.rejected_parts > len(errors),
        "profiles": profiles,
    }
