"""A watch on a service's event loop from a thread of its own.

Everything a service process does runs on one event loop; a synchronous call that blocks
it (a driver call, a lock, heavy CPU) stops every request, batch and timer at once, and
afterwards each of them only shows that it waited. Every `interval_s` the watch asks the
loop to answer; one that has not answered for `stall_s` is logged while it is blocked
(`loop.blocked`, with where the loop's thread is now), and once it answers again
(`loop.unblocked`, with how long it was).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time

from shared.logging import get_logger

log = get_logger(__name__)

STALL_S = 5.0


class LoopWatch:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, *, stall_s: float = STALL_S, interval_s: float = 0.5
    ) -> None:
        self.loop = loop
        self.stall_s = stall_s
        self.interval_s = interval_s
        self._loop_thread = threading.get_ident()  # made on the loop's thread
        self._asked_at: float | None = None
        self._reported = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="loop-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            asked_at = self._asked_at
            if asked_at is None:
                self._asked_at = time.monotonic()
                try:
                    self.loop.call_soon_threadsafe(self._answered)
                except RuntimeError:  # the loop was closed
                    return
            elif not self._reported and time.monotonic() - asked_at > self.stall_s:
                self._reported = True
                log.error(
                    "loop.blocked",
                    blocked_s=round(time.monotonic() - asked_at, 1),
                    where=self._where(),
                )

    def _answered(self) -> None:
        asked_at, self._asked_at = self._asked_at, None
        if self._reported and asked_at is not None:
            log.warning("loop.unblocked", blocked_s=round(time.monotonic() - asked_at, 1))
        self._reported = False

    def _where(self) -> list[str]:
        """The loop thread's stack now, innermost last, as file:line function."""
        frame = sys._current_frames().get(self._loop_thread)
        where: list[str] = []
        while frame is not None and len(where) < 40:
            where.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
            frame = frame.f_back
        return where[::-1]
