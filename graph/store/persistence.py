"""Rewriting a Redis server's files on disk from the data as it is now.

FalkorDB persists through Redis: an append-only file — a base snapshot and a log of
every write query since, parameters included — and, when configured, RDB snapshots.
What a query deleted stays in the log, and in any snapshot taken before, until the
files are rewritten. The embedded server rewrites at stop when it has any log
(:mod:`graph.store.embedded`); an erasure rewrites at once
(:meth:`graph.store.falkordb_store.FalkorDBStore.forget_deleted`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import redis

__all__ = ["AOF", "RDB", "Rewrite", "drop_crash_reports", "rewrite"]

#: how Redis opens and closes a crash report in its log
CRASH_REPORT_START = "=== REDIS BUG REPORT START"
CRASH_REPORT_END = "=== REDIS BUG REPORT END"
#: seconds between looks at a running rewrite
POLL = 0.05


@dataclass(frozen=True)
class Rewrite:
    """One kind of file and the INFO fields that follow its background rewrite."""

    name: str
    command: str
    running: tuple[str, ...]  #: INFO persistence flags set while it runs or waits
    count: str  #: INFO persistence counter of finished rewrites
    status: str  #: INFO persistence field, ``ok`` when the last one succeeded


AOF = Rewrite("append-only file", "BGREWRITEAOF",
              ("aof_rewrite_in_progress", "aof_rewrite_scheduled"), "aof_rewrites",
              "aof_last_bgrewrite_status")  # fmt: skip
RDB = Rewrite("RDB snapshot", "BGSAVE", ("rdb_bgsave_in_progress",), "rdb_saves",
              "rdb_last_bgsave_status")  # fmt: skip


def _idle(client: redis.Redis, deadline: float) -> dict[str, object] | None:
    """INFO persistence once no rewrite of either kind runs (Redis runs one child at a
    time), or None at the deadline."""
    while True:
        info = client.info("persistence")
        if not any(info.get(flag) for flag in (*AOF.running, *RDB.running)):
            return info
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL)


def rewrite(client: redis.Redis, kind: Rewrite, timeout: float) -> bool:
    """Rewrite ``kind`` from the data as it is now and wait for it; True when a rewrite
    that started after this call finished within ``timeout`` seconds and succeeded.

    A rewrite already running when called began before now (it may hold what was
    deleted since): it is waited for, and another one started after it.
    """
    deadline = time.monotonic() + timeout
    before = _idle(client, deadline)
    if before is None:
        return False
    try:
        client.execute_command(kind.command)
    except redis.exceptions.ResponseError as e:  # another client's rewrite began between
        if "in progress" not in str(e).lower():
            raise
        if _idle(client, deadline) is None:
            return False
        client.execute_command(kind.command)
    after = _idle(client, deadline)
    if after is None:
        return False
    return int(str(after.get(kind.count, 0))) > int(str(before.get(kind.count, 0))) and (
        after.get(kind.status) == "ok"
    )


def drop_crash_reports(log_file: Path) -> bool:
    """Cut the crash reports out of a Redis server's log, one line left in each one's
    place; whether there was any. FalkorDB's part of a report lists the queries that
    were running, with their parameters (customers' values); idgraph's server writes
    none (``--crash-log-enabled no``), an older idgraph's may have."""
    try:
        text = log_file.read_text(errors="replace")
    except FileNotFoundError:
        return False
    if CRASH_REPORT_START not in text:
        return False
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        if CRASH_REPORT_START in line:
            inside = True
            kept.append("[a crash report was removed: it may hold customers' values]\n")
        elif not inside:
            kept.append(line)
        elif CRASH_REPORT_END in line:
            inside = False
    log_file.write_text("".join(kept))
    return True
