"""Work in a forked child process (ml/background.py): real forks, real pipes."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from ml.background import InBackground

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def test_the_work_runs_in_a_child_and_its_result_comes_back() -> None:
    data = {n: str(n) for n in range(50_000)}  # the parent's memory, read by the child

    def work() -> tuple[int, int, list[str]]:
        return os.getpid(), len(data), [data[n] for n in (0, 49_999)]

    with InBackground(work, name="test") as made:
        assert made.forked
        data[0] = "changed after the fork"  # the child saw memory as it was
        pid, size, values = made.result()
    assert pid != os.getpid()
    assert (size, values) == (50_000, ["0", "49999"])


def test_without_fork_the_work_is_done_here_when_asked() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        return 7

    made = InBackground(work, name="test", fork=False)
    assert not made.forked and calls == []
    assert made.result() == 7 and calls == [os.getpid()]


def test_a_failing_child_is_said_and_the_work_done_here(caplog: pytest.LogCaptureFixture) -> None:
    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            raise KeyError("jane@example.com")  # a message that could hold personal data
        return "done here"

    with caplog.at_level(logging.WARNING, logger="ml.background"):
        assert InBackground(work, name="test").result() == "done here"
    assert "background process failed (KeyError)" in caplog.text
    assert "jane@example.com" not in caplog.text


def test_a_killed_child_is_said_and_the_work_done_here(caplog: pytest.LogCaptureFixture) -> None:
    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return "done here"

    with caplog.at_level(logging.WARNING, logger="ml.background"):
        assert InBackground(work, name="test").result() == "done here"
    assert f"ended with code {-signal.SIGKILL}" in caplog.text


def test_a_result_not_taken_stops_the_child() -> None:
    def work() -> None:
        time.sleep(60)

    with InBackground(work, name="test") as made:
        child = made._child
        assert child is not None and child.is_alive()
    child.join(timeout=5)
    assert not child.is_alive()
    assert not made.forked
