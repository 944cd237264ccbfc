"""Real-time updates of one process run together (app.realtime), with real threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.realtime import UpdateQueue
from graph.ingest.events import Identifier
from tests.conftest import wait_until


def ids(*values: str) -> set[Identifier]:
    return {Identifier("email", v) for v in values}


def _waiting(queue: UpdateQueue[Any]) -> int:
    with queue._mutex:
        return len(queue._waiting)


def test_requests_waiting_for_an_update_run_as_the_next_one() -> None:
    queue: UpdateQueue[str] = UpdateQueue()
    observed: list[int] = []  # what the metrics count: requests served by each update
    queue.observers["test"] = lambda requests, seconds: observed.append(requests)
    calls: list[tuple[set[Identifier], set[Identifier]]] = []
    gate = threading.Event()
    started = threading.Event()

    def update(together: set[Identifier], alone: set[Identifier], handoff: Any) -> str:
        calls.append((together, alone))
        if len(calls) == 1:
            started.set()
            assert gate.wait(10)
        return f"update {len(calls)}"

    results: dict[str, Any] = {}

    def post(name: str, together: set[Identifier], alone: set[Identifier]) -> None:
        results[name] = queue.submit(together, alone, update)

    first = threading.Thread(target=post, args=("a", ids("a1", "a2"), ids("a3")))
    first.start()
    assert started.wait(10)  # the first request runs its update, holding it
    others = [
        threading.Thread(target=post, args=("b", ids("b1"), ids("b2"))),
        threading.Thread(target=post, args=("c", ids("c1", "c2"), set())),
        # seen alone here, together in another waiting request: re-planned
        threading.Thread(target=post, args=("d", set(), ids("d1", "b1"))),
    ]
    for thread in others:
        thread.start()
    wait_until(lambda: _waiting(queue) == 3, "three requests waiting")
    gate.set()
    for thread in [first, *others]:
        thread.join(10)
    assert calls == [
        (ids("a1", "a2"), ids("a3")),
        (ids("b1", "c1", "c2"), ids("b2", "d1")),
    ]
    assert results == {"a": "update 1", "b": "update 2", "c": "update 2", "d": "update 2"}
    assert (queue.updates, queue.requests) == (2, 4)
    # alone again: one request, one update of its own
    assert queue.submit(ids("e1"), set(), update) == "update 3"
    assert calls[-1] == (ids("e1"), set())
    assert observed == [1, 3, 1]


def test_an_update_that_fails_fails_every_request_it_served_and_the_queue_goes_on() -> None:
    queue: UpdateQueue[str] = UpdateQueue()
    gate = threading.Event()
    started = threading.Event()
    calls = 0

    def update(together: set[Identifier], alone: set[Identifier], handoff: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            assert gate.wait(10)
            return "fine"
        raise RuntimeError("store went away")

    outcomes: dict[str, Any] = {}

    def post(name: str) -> None:
        try:
            outcomes[name] = queue.submit(ids(name), set(), update)
        except RuntimeError as e:
            outcomes[name] = e

    threads = [threading.Thread(target=post, args=(name,)) for name in ("a", "b", "c")]
    threads[0].start()
    assert started.wait(10)
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: _waiting(queue) == 2, "two requests waiting")
    gate.set()
    for thread in threads:
        thread.join(10)
    assert outcomes["a"] == "fine"
    assert isinstance(outcomes["b"], RuntimeError) and outcomes["b"] is outcomes["c"]
    with pytest.raises(RuntimeError):
        queue.submit(ids("d"), set(), update)
    assert not queue._running  # nothing left waiting for a leader that is gone


def test_the_next_update_starts_when_the_running_one_hands_on() -> None:
    """After its locked part an update hands on: the requests that arrived meanwhile
    run their update while it finishes (its facts), and each request still answers
    only once its own update has finished."""
    queue: UpdateQueue[str] = UpdateQueue()
    locked_part, rest = threading.Event(), threading.Event()
    started = threading.Event()
    finished: list[str] = []

    def update(together: set[Identifier], alone: set[Identifier], handoff: Any) -> str:
        name = min(i.value for i in together)
        if name == "a":
            started.set()
            assert locked_part.wait(10)
            handoff()
            handoff()  # twice changes nothing
            assert rest.wait(10)
        finished.append(name)
        return f"done {name}"

    outcomes: dict[str, str | None] = {}

    def post(name: str) -> None:
        outcomes[name] = queue.submit(ids(name), set(), update)

    first = threading.Thread(target=post, args=("a",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=post, args=("b",))
    second.start()
    wait_until(lambda: _waiting(queue) == 1, "the second request waiting")
    locked_part.set()
    second.join(10)
    assert outcomes == {"b": "done b"} and finished == ["b"]  # "a" is still running
    rest.set()
    first.join(10)
    assert outcomes == {"a": "done a", "b": "done b"} and finished == ["b", "a"]
    assert not queue._running and (queue.updates, queue.requests) == (2, 2)


def test_small_and_bulk_requests_run_in_lanes_of_their_own() -> None:
    """A call of an event or two never waits for a bulk batch's update of its process
    (nor the other way round): each kind runs in its own lane, where the waiting
    requests of that kind run together, the first in line first."""
    from app.realtime import SMALL_REQUEST

    queue: UpdateQueue[str] = UpdateQueue()
    gates = {name: threading.Event() for name in ("small1", "bulk1")}
    running = {name: threading.Event() for name in gates}
    calls: list[set[str]] = []

    def update(together: set[Identifier], alone: set[Identifier], handoff: Any) -> str:
        names = {i.value.split("-")[0] for i in together | alone}
        calls.append(names)
        for name in names & gates.keys():
            running[name].set()
            assert gates[name].wait(10)
        return "+".join(sorted(names))

    def bulk(name: str) -> set[Identifier]:
        return ids(*(f"{name}-{k}" for k in range(SMALL_REQUEST + 1)))

    results: dict[str, Any] = {}

    def post(name: str, together: set[Identifier]) -> threading.Thread:
        def run() -> None:
            results[name] = queue.submit(together, set(), update)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    threads = [post("small1", ids("small1"))]
    assert running["small1"].wait(10)
    threads.append(post("bulk1", bulk("bulk1")))  # runs beside the small one
    assert running["bulk1"].wait(10)
    assert queue._running == {True, False}
    for n, (name, together) in enumerate([("small2", ids("small2-a", "small2-b")),
                                          ("bulk2", bulk("bulk2")), ("small3", ids("small3")),
                                          ("bulk3", bulk("bulk3"))]):  # fmt: skip
        threads.append(post(name, together))
        wait_until(lambda n=n: _waiting(queue) == n + 1, f"{name} waiting")
    gates["bulk1"].set()  # the bulk lane goes on; the small one still runs small1
    wait_until(lambda: "bulk2+bulk3" in results.values(), "the bulk lane's next update")
    assert "small2" not in results and _waiting(queue) == 2
    gates["small1"].set()
    for thread in threads:
        thread.join(10)
    assert results == {"small1": "small1", "bulk1": "bulk1", "small2": "small2+small3",
                       "small3": "small2+small3", "bulk2": "bulk2+bulk3",
                       "bulk3": "bulk2+bulk3"}  # fmt: skip
    assert sorted(map(sorted, calls)) == [["bulk1"], ["bulk2", "bulk3"], ["small1"],
                                          ["small2", "small3"]]  # fmt: skip
    assert not queue._running and (queue.updates, queue.requests) == (4, 6)
