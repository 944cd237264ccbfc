"""scikit-learn's OpenMP threads: as many as there are idle cores (ml/openmp.py; the
fits measured alone and beside a busy core are in docs/benchmarks.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime threadpoolctl looks for)
from threadpoolctl import threadpool_info

from ml import openmp
from ml.openmp import cpu_times, idle_core_threads, idle_cores, threads_for

STAT = """cpu  900 10 300 5000 20 0 7 400 0 0
cpu0 100 0 50 1000 10 0 0 200 0 0
cpu1 300 10 50 2000 10 0 5 200 0 0
intr 12345
"""


def _openmp_threads() -> int:
    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")


def test_busy_and_all_ticks_leave_steal_out() -> None:
    assert cpu_times(STAT, [0]) == (150, 1160)
    assert cpu_times(STAT, [0, 1]) == (150 + 365, 1160 + 2375)
    assert cpu_times(STAT, [7]) is None  # a core the text does not name


def test_one_thread_per_idle_core_within_the_ceiling() -> None:
    assert threads_for(2.0, 2) == 2
    assert threads_for(1.8, 2) == 2  # three quarters idle counts
    assert threads_for(1.6, 2) == 1
    assert threads_for(0.0, 2) == 1  # never none
    assert threads_for(7.9, 4) == 4
    assert threads_for(None, 3) == 3  # the system does not say: OpenMP's own


def test_a_stat_file_that_does_not_move_says_nothing(tmp_path: os.PathLike[str]) -> None:
    stat = os.path.join(tmp_path, "stat")
    with open(stat, "w") as f:
        f.write(STAT)
    assert idle_cores(0.01, stat=stat) is None
    assert idle_cores(0.01, stat=os.path.join(tmp_path, "missing")) is None


@pytest.fixture
def busy_cores() -> Iterator[int]:
    """A spinning process on every core this process may use."""
    cores = len(os.sched_getaffinity(0))
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(cores)]  # fmt: skip
    time.sleep(0.5)
    try:
        yield cores
    finally:
        for p in spinners:
            p.kill()
            p.wait()


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="counts cores in /proc/stat")
def test_a_fit_beside_busy_cores_runs_on_one_thread(
    busy_cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (idle_cores(0.3) or 0.0) < 0.75
    monkeypatch.setattr(openmp, "_last", None)  # no count reused
    before = _openmp_threads()
    with idle_core_threads() as threads:
        assert threads == 1
        assert _openmp_threads() == 1
    assert _openmp_threads() == before  # given back


def test_small_predictions_run_on_one_thread() -> None:
    with idle_core_threads(rows=10) as threads:
        assert threads == 1 == _openmp_threads()


def test_the_operators_thread_count_is_the_ceiling() -> None:
    """OMP_NUM_THREADS=1: one thread however idle the cores (a process of its own:
    OpenMP reads it when it loads)."""
    probe = (
        "import sklearn.ensemble\n"
        "from ml import openmp\n"
        "openmp.idle_cores = lambda *a, **k: 64.0\n"
        "with openmp.idle_core_threads() as n:\n"
        "    print(n)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env).stdout  # fmt: skip
    assert out.split() == ["1"]
