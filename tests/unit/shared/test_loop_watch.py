"""A blocked event loop is named in the log while it is blocked, with where its thread
is, and again once it runs: every request, batch and timer of the process waited
meanwhile, and each of them alone only shows that it waited."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from shared.loop_watch import LoopWatch


def blocking_call(seconds: float) -> None:
    time.sleep(seconds)  # a synchronous call on the loop's thread


async def test_a_blocked_loop_is_logged_with_where_it_is_then_when_it_runs() -> None:
    watch = LoopWatch(asyncio.get_running_loop(), stall_s=0.2, interval_s=0.05)
    with capture_logs() as logs:
        watch.start()
        try:
            await asyncio.sleep(0.2)  # answering: nothing to report
            blocking_call(0.6)
            await asyncio.sleep(0.2)
        finally:
            watch.stop()
    events = [e["event"] for e in logs]
    assert events == ["loop.blocked", "loop.unblocked"]
    blocked, unblocked = logs
    assert blocked["blocked_s"] >= 0.2
    assert blocked["where"][-1].endswith(" blocking_call")
    assert any("test_a_blocked_loop_is_logged" in step for step in blocked["where"])
    assert unblocked["blocked_s"] >= 0.5


async def test_a_busy_loop_that_answers_is_not_reported() -> None:
    watch = LoopWatch(asyncio.get_running_loop(), stall_s=0.5, interval_s=0.05)
    with capture_logs() as logs:
        watch.start()
        try:
            for _ in range(10):
                blocking_call(0.05)  # short steps, each shorter than the stall
                await asyncio.sleep(0)
        finally:
            watch.stop()
    assert logs == []
