"""Temporal activities of the monitoring service: the I/O its workflows need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared.runtime import ServiceRuntime


def activities(_runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    return []
