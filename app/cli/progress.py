"""Progress bars for long commands: on a terminal a bar per step, with rate and ETA
(tqdm, on stderr); not on a terminal, nothing (the command prints one summary line)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

__all__ = ["Bar", "progress_bar", "progress_option"]

#: ``--progress/--no-progress`` for every long command
progress_option = click.option(
    "--progress/--no-progress", default=None, help="Progress bars (default: on a terminal)."
)


class Bar:
    """A :data:`graph.progress.Progress` drawn with tqdm: a new bar for each step."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._step = ""

    def __call__(self, step: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self._bar is None or step != self._step:
            self.close()
            from tqdm import tqdm

            self._step = step
            self._bar = tqdm(total=total, desc=step, file=sys.stderr, dynamic_ncols=True,
                             leave=False)  # fmt: skip
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.update(max(0, done - self._bar.n))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def progress_bar(flag: bool | None) -> Iterator[Bar]:
    """A bar when ``flag`` says so, or (None) when stderr is a terminal."""
    bar = Bar(sys.stderr.isatty() if flag is None else flag)
    try:
        yield bar
    finally:
        bar.close()
