"""Event contracts: one module per topic, each with TOPIC and EVENT_TYPES.

A payload is validated against the model registered for its event type; a type the
topic does not define is not ours to guess at, so it goes to the dead-letter topic.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # shared.contracts.common's Role is read by `dps token`: no pydantic
    from pydantic import BaseModel

TOPIC_MODULES: dict[str, str] = {
    "providers.v1": "shared.contracts.providers_v1",
    "procurement.v1": "shared.contracts.procurement_v1",
    "placements.v1": "shared.contracts.placements_v1",
    "quality.v1": "shared.contracts.quality_v1",
    "ehc.plans.v1": "shared.contracts.ehc_plans_v1",
}
TOPICS: tuple[str, ...] = tuple(TOPIC_MODULES)


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


@cache
def topic_module(topic: str) -> ModuleType:
    if topic not in TOPIC_MODULES:
        raise KeyError(f"unknown topic {topic!r}")
    return importlib.import_module(TOPIC_MODULES[topic])


def payload_model(topic: str, event_type: str) -> type[BaseModel] | None:
    """The pydantic model of `event_type` on `topic`, or None if the topic lacks it."""
    models: dict[str, type[BaseModel]] = topic_module(topic).EVENT_TYPES
    return models.get(event_type)


@cache
def subject_is_personal(topic: str) -> bool:
    """Whether ``topic`` is keyed by a person (the council's child reference): such a
    subject is special-category data and never goes into logs (UK GDPR Art. 5(1)(c))."""
    return topic in TOPIC_MODULES and bool(
        getattr(topic_module(topic), "SUBJECT_IS_PERSONAL", False)
    )


@cache
def topic_personal_fields(topic: str) -> frozenset[str]:
    """Every field name any event type of ``topic`` marks personal.

    Redaction of a stored message goes by the whole topic's names, not its own type's:
    a dead letter may be of an unknown type or fail its own model.
    """
    from shared.contracts.common import personal_fields

    models: dict[str, type[BaseModel]] = topic_module(topic).EVENT_TYPES
    return frozenset().union(*(personal_fields(m) for m in models.values()))
