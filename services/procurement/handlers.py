"""Kafka subscribers of procurement."""

from __future__ import annotations

from shared.runtime import ServiceRuntime, Subscriptions


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler."""
    return {}
