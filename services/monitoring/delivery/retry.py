"""How long a failed delivery waits before its next attempt (both channels alike)."""

from __future__ import annotations

from datetime import timedelta

from services.monitoring.settings import MonitoringSettings


def backoff(settings: MonitoringSettings, attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.delivery_backoff_s * 2 ** (attempts - 1), 300))
