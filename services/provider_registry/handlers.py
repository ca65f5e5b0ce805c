"""Kafka subscribers of the provider register: what it learns from other services."""

from __future__ import annotations

from shared.runtime import ServiceRuntime, Subscriptions


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler. quality.v1 suspension recommendations come next."""
    return {}
