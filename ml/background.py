"""Pure work done in a forked child process while this one goes on.

``idgraph train`` at a million identifiers spends minutes in pure Python on data it
already holds, one step after another, on one core of two: while it makes the
self-supervised queries and fits the model, the other core is idle (the store is not
read then). :class:`InBackground` runs a step that does not depend on them (the
decisions' candidate rows) in a child forked from this process: the child reads the
parent's memory as it was at the fork (copy on write: it pays only for the pages it
writes to) and sends back its result, pickled, through a pipe.

Where ``fork`` is not available, or the child fails (an error, killed for memory),
the work is done in this process when its result is asked for, the failure logged:
the result is the same either way, only later.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["InBackground"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class InBackground(Generic[T]):
    """``work()`` started in a forked child (:meth:`result` waits for it), or run
    here when asked for its result when the child cannot run or fails. As a context
    manager, the child is stopped at the block's end if its result was not taken."""

    def __init__(self, work: Callable[[], T], *, name: str, fork: bool = True) -> None:
        self._work = work
        self._name = name
        self._child: Any = None
        self._pipe: Any = None
        if fork and "fork" in multiprocessing.get_all_start_methods():
            self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        # the parent's objects frozen for the fork: the child's collections do not
        # walk them (which would write to every page they live on, copying it)
        gc.freeze()
        try:
            self._child = context.Process(target=_run, args=(self._work, send),
                                          name=f"idgraph {self._name}", daemon=True)  # fmt: skip
            self._child.start()
        finally:
            gc.unfreeze()
        send.close()
        self._pipe = receive

    def __enter__(self) -> InBackground[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Stop the child if its result was not taken (the caller gave up on it)."""
        if self._child is not None:
            self._child.kill()
            self._child.join()
            self._pipe.close()
            self._child = None

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child process."""
        return self._child is not None

    def result(self) -> T:
        """The work's result: the child's, or made here."""
        if self._child is None:
            return self._work()
        try:
            ok, value = self._pipe.recv()
        except (EOFError, OSError):
            ok, value = False, None
        finally:
            self._pipe.close()
            self._child.join()
        code, self._child = self._child.exitcode, None
        if ok:
            return value
        # the error's type only: its message may hold an identifier's value
        why = f"{value}" if value else f"it ended with code {code}, without an answer"
        logger.warning("%s: the background process failed (%s); done here instead",
                       self._name, why)  # fmt: skip
        return self._work()


def _run(work: Callable[[], Any], send: Any) -> None:
    """In the child: ``work()``, its result or error sent to the parent."""
    try:
        answer: tuple[bool, Any] = (True, work())
    except BaseException as e:  # the parent reports it and does the work itself
        answer = (False, type(e).__name__)
    try:
        send.send(answer)
    finally:
        send.close()
        os._exit(0)  # no atexit handlers or finalizers of the parent's objects
