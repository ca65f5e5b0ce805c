"""The one envelope of every event: CloudEvents 1.0 attributes, JSON encoded.

`subject` is the aggregate id and also the Kafka key, so one aggregate's events keep
their order on one partition.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Envelope(BaseModel):
    """A CloudEvents 1.0 event with our `correlationid` extension."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str = Field(min_length=1, max_length=200)
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    correlationid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @property
    def key(self) -> bytes:
        return self.subject.encode()


class UndecodableEvent(ValueError):
    """The bytes on the topic are not an event we can read; the reason says why."""


def new_event(
    event_type: str,
    *,
    source: str,
    subject: str,
    data: BaseModel,
    correlation_id: str | None = None,
    topic: str | None = None,
) -> Envelope:
    """Wrap a payload model in an envelope; the correlation id defaults to the event id."""
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        type=event_type,
        source=source,
        subject=subject,
        dataschema=f"{topic}#{event_type}" if topic else None,
        correlationid=correlation_id or event_id,
        data=data.model_dump(mode="json"),
    )


def decode_envelope(raw: bytes | None) -> Envelope:
    """Parse Kafka bytes into an envelope or raise UndecodableEvent with the reason."""
    if raw is None:
        raise UndecodableEvent("empty message (tombstone)")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UndecodableEvent(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UndecodableEvent("not a JSON object")
    if document.get("specversion") != "1.0":
        raise UndecodableEvent("specversion must be '1.0' (CloudEvents 1.0)")
    try:
        return Envelope.model_validate(document)
    except ValidationError as exc:
        raise UndecodableEvent(f"bad envelope: {_first_errors(exc)}") from exc


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def describe_validation_error(exc: ValidationError) -> str:
    """A one-line reason naming the fields at fault, for DLQ records and logs."""
    return _first_errors(exc)
