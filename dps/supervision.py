"""What `dps up` does when one of its processes dies: pure policy, no processes here.

A crashed process is restarted after a backoff that doubles with each recent crash;
a process that crashes more than `max_crashes` times within `window_s` seconds is
broken rather than unlucky, and the supervisor then stops the whole stack (so a
misconfiguration is reported instead of looping for ever).
"""

from __future__ import annotations

import signal
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RestartPolicy:
    max_crashes: int = 5  # crashes tolerated within the window; one more stops the stack
    window_s: float = 120.0
    first_delay_s: float = 0.5
    max_delay_s: float = 15.0

    def __post_init__(self) -> None:
        if self.max_crashes < 1 or self.window_s <= 0:
            raise ValueError("max_crashes must be at least 1 and window_s positive")
        if self.first_delay_s < 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError("delays must satisfy 0 <= first_delay_s <= max_delay_s")


@dataclass(frozen=True)
class Restart:
    delay_s: float
    recent_crashes: int


@dataclass(frozen=True)
class GiveUp:
    recent_crashes: int
    window_s: float

    @property
    def reason(self) -> str:
        return f"crashed {self.recent_crashes} times within {self.window_s:.0f}s"


Decision = Restart | GiveUp


@dataclass
class CrashHistory:
    """Crash times per process (monotonic seconds) and the decision each crash gets."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    _crashes: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def record(self, name: str, now: float) -> Decision:
        recent = [t for t in self._crashes[name] if now - t < self.policy.window_s]
        recent.append(now)
        self._crashes[name] = recent
        if len(recent) > self.policy.max_crashes:
            return GiveUp(len(recent), self.policy.window_s)
        delay = self.policy.first_delay_s * 2 ** (len(recent) - 1)
        return Restart(min(self.policy.max_delay_s, delay), len(recent))

    def recent(self, name: str, now: float) -> int:
        return sum(1 for t in self._crashes[name] if now - t < self.policy.window_s)


def describe_exit(returncode: int) -> str:
    """Popen's return code in words: a negative code is the signal that killed it."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-returncode} ({name})"
    return f"exited with code {returncode}"
