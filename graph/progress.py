"""How long work reports how far it got: ``progress(step, done, total)``.

A leaf module: resolution, facts, RFM, the link model's training and exports call a
:data:`Progress` callback at each step and batch; the CLI draws it as a bar with rate
and ETA on a terminal (``app/cli/progress.py``), everything else passes
:func:`no_progress`.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress"]

#: (step, done, total): what is being done, how much of it, out of how much (None:
#: unknown)
Progress = Callable[[str, int, "int | None"], None]


def no_progress(step: str, done: int, total: int | None) -> None:
    """Report nothing."""
