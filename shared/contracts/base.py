"""The one base of every event payload this project publishes.

A payload names its own topic, CloudEvents ``type`` and ``subject`` (also the Kafka key),
so ``uow.emit(event)`` needs nothing else and a type can never be paired with the wrong
model.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every published payload: ``TOPIC``, ``TYPE`` and the field that is its subject."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TOPIC: ClassVar[str]
    TYPE: ClassVar[str]
    SUBJECT_FIELD: ClassVar[str]

    def subject(self) -> str:
        """CloudEvents ``subject`` and Kafka key: the aggregate this event is about."""
        return str(getattr(self, self.SUBJECT_FIELD))
