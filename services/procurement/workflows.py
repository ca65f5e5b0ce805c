"""Temporal workflows of procurement."""

from __future__ import annotations

WORKFLOWS: list[type] = []
