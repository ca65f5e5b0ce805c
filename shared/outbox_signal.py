"""A process-wide nudge so the relay publishes a committed event at once, not at next poll."""

from __future__ import annotations

import asyncio

_wakeups: set[asyncio.Event] = set()


def register(event: asyncio.Event) -> None:
    _wakeups.add(event)


def unregister(event: asyncio.Event) -> None:
    _wakeups.discard(event)


def wake_relay() -> None:
    for event in _wakeups:
        event.set()
