"""Temporal workflows of placements."""

from __future__ import annotations

WORKFLOWS: list[type] = []
