"""Temporal workflows of the provider register (the daily document-expiry sweep)."""

from __future__ import annotations

WORKFLOWS: list[type] = []
