"""The resolution lock lets small real-time updates go first (app.resolve_lock), on
the real embedded Redis, with real threads."""

from __future__ import annotations

import threading
import time

from app.resolve_lock import ResolveLock
from app.resources import Resources
from tests.conftest import wait_until


def _lock(res: Resources, *, first: bool = False, sleep: float = 0.005, wait: float = 10,
          defer: float = 10) -> ResolveLock:  # fmt: skip
    name = f"idgraph:resolve-lock:{res.config.graph_name}"
    return ResolveLock(res.redis, name, timeout=20, sleep=sleep, blocking_timeout=wait,
                       first=first, defer=defer)  # fmt: skip


def test_a_first_waiter_takes_the_lock_before_the_others(resources: Resources) -> None:
    holder = _lock(resources)
    assert holder.acquire()
    order: list[str] = []
    release = threading.Event()

    def take(name: str, lock: ResolveLock) -> None:
        assert lock.acquire()
        order.append(name)
        assert release.wait(10)
        lock.release()

    # the other waiter polls 40 times as often: without the order it would win
    after = threading.Thread(target=take, args=("after", _lock(resources, sleep=0.001)))
    first_lock = _lock(resources, first=True, sleep=0.04)
    first = threading.Thread(target=take, args=("first", first_lock))
    after.start()
    first.start()
    wait_until(lambda: resources.redis.zcard(first_lock.waiters) == 1, "the first waiter marked")
    holder.release()
    wait_until(lambda: order, "someone took the lock")
    release.set()
    for thread in (after, first):
        thread.join(10)
    assert order == ["first", "after"]
    assert resources.redis.zcard(first_lock.waiters) == 0  # no mark left behind


def test_the_others_defer_to_first_waiters_for_a_bounded_time(resources: Resources) -> None:
    waiting = _lock(resources, first=True)
    # a first waiter that keeps waiting (its mark renewed far ahead)
    resources.redis.zadd(waiting.waiters, {"someone": time.time() * 1000 + 60_000})
    lock = _lock(resources, defer=0.2, wait=5)
    started = time.monotonic()
    assert lock.acquire()  # after its 0.2 s of deferring, not after the 5 s wait
    assert time.monotonic() - started < 5
    lock.release()


def test_the_mark_of_a_waiter_that_died_defers_no_one(resources: Resources) -> None:
    dead = _lock(resources, first=True)
    resources.redis.zadd(dead.waiters, {"gone": 1})  # expired long ago
    assert _lock(resources, defer=60, wait=1).acquire()


def test_a_first_waiter_that_gives_up_leaves_no_mark(resources: Resources) -> None:
    holder = _lock(resources)
    assert holder.acquire()
    impatient = _lock(resources, first=True, wait=0.05)
    assert not impatient.acquire()
    assert resources.redis.zcard(impatient.waiters) == 0
    holder.release()
    assert _lock(resources, defer=60, wait=1).acquire()  # and it defers no one
