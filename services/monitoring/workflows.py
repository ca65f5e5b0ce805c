"""Temporal workflows of monitoring (alert escalation)."""

from __future__ import annotations

WORKFLOWS: list[type] = []
