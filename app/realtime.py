"""Real-time profile updates of one process, run together (group commit).

Every ``POST /v1/events`` updates the profiles of its events before it answers
(:func:`app.collection.ingest_batch`), and updates run one at a time across all
processes, under the resolution lock. Under load, requests queue for that lock,
each to run an update of its own. Here the requests of one process that are
waiting when an update starts run as one: the first waiting request runs the
update for the identifiers of all of them, each gets its outcome, and the first
request that arrived meanwhile runs the next. One update over several requests'
identifiers reads their neighbourhoods and refreshes their profiles' facts in the
same store round trips, and takes the lock once: measured in docs/benchmarks.md
(Real-time updates, 2026-12-04).

An update hands on (``handoff``) once it no longer needs to run alone, after its
part under the resolution lock: the next one starts while it refreshes its
profiles' facts, which need no lock (facts are versioned by the store time they
were read: a stale write never wins). A request that arrives during an update then
waits for that update's locked part only, not for its facts.

A request still answers only after an update that included its identifiers has
finished, so a look-up right after its answer sees its profiles; what the answer
reports (``profiles``) is that update's, which may have included other requests.

Small requests (at most :data:`SMALL_REQUEST` identifiers: an app's or a till's
call of an event or two) and bulk ones (a pipeline's batch of a hundred events) run
in updates of their own, in two lanes: an update takes the first waiting request of
its lane and the waiting requests of that lane. A small request grouped with a bulk
one waited for that one's neighbourhood, plan and the facts of its ~90 profiles:
its POST took 118 ms at the median against 22 ms alone (docs/benchmarks.md,
Real-time updates, 2026-12-06 01:36). A small request that waited for a bulk update
of its process to finish its locked part waited for that update's turn at the
resolution lock too: now a small update runs while a bulk one does, and takes the
resolution lock before waiting bulk updates (:mod:`app.resolve_lock`); within a
lane, the first waiting request runs next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from graph.ingest.events import Identifier

__all__ = ["SMALL_REQUEST", "UpdateQueue", "is_small"]

T = TypeVar("T")

#: identifiers of a request that runs with the small ones (see the module docstring)
SMALL_REQUEST = 20


def is_small(identifiers: int) -> bool:
    """Whether a request of this many identifiers runs in the small lane (and its
    update takes the resolution lock first: app.collection)."""
    return identifiers <= SMALL_REQUEST


#: an update: (identifiers seen together with another strong one, identifiers seen alone,
#: handoff: called once the next update may start; by then at the latest when it returns)
Update = Callable[[set[Identifier], set[Identifier], Callable[[], None]], T]


@dataclass(eq=False)
class _Request(Generic[T]):
    together: set[Identifier]
    alone: set[Identifier]
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  #: woken to run the next update, not with an outcome
    outcome: T | None = None
    error: BaseException | None = None

    @property
    def small(self) -> bool:
        return is_small(len(self.together) + len(self.alone))

    def result(self) -> T | None:
        if self.error is not None:
            raise self.error
        return self.outcome


class UpdateQueue(Generic[T]):
    """The waiting real-time updates of one process (thread-safe)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: list[_Request[T]] = []
        #: the lanes with an update running: small (True), bulk (False)
        self._running: set[bool] = set()
        #: updates run and requests they served, since the process started
        self.updates = 0
        self.requests = 0
        #: called after each update with the requests it served and its seconds (the
        #: lock's wait included), by name: :mod:`app.metrics` counts them (an app made
        #: again on the same resources replaces its observer, it does not add one)
        self.observers: dict[str, Callable[[int, float], None]] = {}

    def submit(
        self, together: set[Identifier], alone: set[Identifier], update: Update[T]
    ) -> T | None:
        """Run ``update`` for these identifiers, together with those of the requests
        waiting when it starts; returns its outcome (or raises its error) once an
        update that included them has finished."""
        me: _Request[T] = _Request(set(together), set(alone))
        with self._mutex:
            self._waiting.append(me)
            leads = me.small not in self._running
            self._running.add(me.small)
        if not leads:
            me.done.wait()
            if not me.leads:
                return me.result()
        with self._mutex:
            # the leader is the first waiting request of its lane; that lane's run with it
            batch = [r for r in self._waiting if r.small == me.small]
            self._waiting = [r for r in self._waiting if r.small != me.small]
        started = time.perf_counter()
        handed: list[bool] = []

        def handoff() -> None:
            if not handed:
                handed.append(True)
                self._hand_on(me.small)

        try:
            together_all = set().union(*(r.together for r in batch))
            alone_all = set().union(*(r.alone for r in batch)) - together_all
            outcome, error = update(together_all, alone_all, handoff), None
        except BaseException as e:  # every request of the batch gets it
            outcome, error = None, e
        seconds = time.perf_counter() - started
        handoff()
        with self._mutex:
            self.updates += 1
            self.requests += len(batch)
        for observe in self.observers.values():
            observe(len(batch), seconds)
        for request in batch:
            request.outcome, request.error = outcome, error
            if request is not me:
                request.done.set()
        return me.result()

    def _hand_on(self, small: bool) -> None:
        """Wake the first request of this lane that arrived during the update to lead
        the next one (or mark the lane idle)."""
        with self._mutex:
            following = next((r for r in self._waiting if r.small == small), None)
            if following is None:
                self._running.discard(small)
        if following is not None:
            following.leads = True
            following.done.set()
