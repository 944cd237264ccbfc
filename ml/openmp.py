"""How many OpenMP threads scikit-learn's tree ensembles use: as many as there are
idle cores when they start.

The link model's ensembles (``HistGradientBoostingClassifier``) run on OpenMP threads
(libgomp), which spin for a while whenever they wait for work. On an idle machine
that is what makes them fast: fitting the 1M world's 217,172 rows took 11.6 to 13.5 s
on two cores, 20.1 s on one, and 22.5 to 24.1 s with the threads waiting asleep
(``OMP_WAIT_POLICY=PASSIVE``). Beside a process that keeps one core busy the same fit
took 38 to 44 s spinning (and 76 to 186 s with a longer spin), 20.4 s on one thread
(docs/benchmarks.md, "Link model"). So each fit and each large prediction counts the
cores idle just before it (``/proc/stat``) and runs on that many threads, at most
those OpenMP would use anyway (``OMP_NUM_THREADS``: an operator's choice stays the
ceiling, as does ``OMP_WAIT_POLICY``, which libgomp reads itself).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["SMALL_ROWS", "cpu_times", "idle_core_threads", "idle_cores", "threads_for"]

#: a prediction over fewer rows runs on one thread (no count: it is over in
#: microseconds, and a team of threads only costs it)
SMALL_ROWS = 2_000
#: how long the cores are watched before a fit or a large prediction (seconds)
WINDOW = 0.05
#: a count is reused this long (seconds): resolve scores a million rows in chunks
REUSE = 2.0
_STAT = "/proc/stat"

_controller: Any = None
_last: tuple[float, int] | None = None  #: (when, threads) of the last count


def cpu_times(text: str, cpus: Sequence[int]) -> tuple[float, float] | None:
    """(busy, all) clock ticks of ``cpus`` in a ``/proc/stat`` text; None when it
    names none of them. Busy: user, nice, system, irq and softirq — what processes
    use. Time the hypervisor took (steal) counts in neither: a core it takes for a
    moment is not one another process keeps busy."""
    wanted = {f"cpu{n}" for n in cpus}
    busy = total = 0.0
    found = False
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name not in wanted:
            continue
        ticks = [float(v) for v in rest.split()]
        ticks += [0.0] * (8 - len(ticks))
        user, nice, system, idle, iowait, irq, softirq, _steal = ticks[:8]
        busy += user + nice + system + irq + softirq
        total += user + nice + system + idle + iowait + irq + softirq
        found = True
    return (busy, total) if found else None


def idle_cores(window: float = WINDOW, stat: str = _STAT) -> float | None:
    """How many of the cores this process may run on sat idle over the next
    ``window`` seconds (fractions add up); None where the system does not say."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    try:
        with open(stat) as f:
            before = cpu_times(f.read(), cpus)
        time.sleep(window)
        with open(stat) as f:
            after = cpu_times(f.read(), cpus)
    except OSError:
        return None
    if before is None or after is None or after[1] <= before[1]:
        return None
    busy = (after[0] - before[0]) / (after[1] - before[1])  # of one core's time
    return max(0.0, len(cpus) * (1.0 - busy))


def threads_for(idle: float | None, ceiling: int) -> int:
    """Threads for a fit when ``idle`` cores are idle: one per core idle (a core three
    quarters idle counts), at least one, at most ``ceiling``; ``ceiling`` when
    unknown."""
    if idle is None:
        return ceiling
    return max(1, min(ceiling, int(idle + 0.25)))


@contextmanager
def idle_core_threads(rows: int | None = None) -> Iterator[int]:
    """Run the OpenMP work inside on as many threads as cores are idle now (one for
    fewer than :data:`SMALL_ROWS` rows); yields that number. Load scikit-learn first:
    its OpenMP runtime is found among the loaded libraries."""
    global _controller, _last
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    ceiling = max([p.num_threads for p in _controller.select(user_api="openmp").lib_controllers]
                  or [1])  # fmt: skip
    now = time.monotonic()
    if rows is not None and rows < SMALL_ROWS:
        threads = 1
    elif _last is not None and now - _last[0] < REUSE:
        threads = min(_last[1], ceiling)
    else:
        threads = threads_for(idle_cores(), ceiling)
        _last = (time.monotonic(), threads)
    with _controller.limit(limits=threads, user_api="openmp"):
        yield threads
