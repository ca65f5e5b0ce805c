"""The one envelope of every event: CloudEvents 1.0 attributes, JSON encoded.

`subject` is the aggregate id and also the Kafka key, so one aggregate's events keep
their order on one partition.

On Kafka we follow the CloudEvents 1.0 Kafka protocol binding
(https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md):
we publish in *structured* content mode (header `content-type:
application/cloudevents+json`, the whole event in the value, no `ce_` headers) and read
both modes (`decode_record`). docs/integration.md says the same for councils.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
CE_PREFIX = "ce_"
# CloudEvents 1.0, "Required Attributes": a receiver must not invent them. An event
# without an id in particular would get a new one on every delivery, so a redelivery
# would be applied twice (issue 16).
REQUIRED_ATTRIBUTES = ("id", "source", "specversion", "type")
_REQUIRED = frozenset(REQUIRED_ATTRIBUTES)
DEFAULT_SCHEMA_BASE = "https://send-dps.example/schemas/"
_schema_base = DEFAULT_SCHEMA_BASE


def set_schema_base(base: str) -> None:
    """Where the published JSON Schemas (docs/schemas) are served; from the settings."""
    global _schema_base
    _schema_base = base if base.endswith("/") else base + "/"


def schema_base() -> str:
    return _schema_base


def dataschema_uri(topic: str, event_type: str) -> str:
    """The absolute URI of an event type's schema: `$id` of the topic's schema document
    plus the event type as a plain-name fragment (`$anchor`) inside it."""
    return f"{_schema_base}{topic}.json#{event_type}"


def _envelope_schema(schema: dict[str, Any]) -> None:
    # What a receiver requires (CloudEvents' required attributes plus the subject, which
    # is the Kafka key), not what the producer-side defaults would let a model omit.
    schema["required"] = [*REQUIRED_ATTRIBUTES, "subject"]
    schema["properties"]["specversion"]["const"] = "1.0"
    schema["properties"]["dataschema"]["anyOf"][0]["format"] = "uri"


class Envelope(BaseModel):
    """A CloudEvents 1.0 event with our `correlationid` extension."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_envelope_schema)

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

    def kafka_headers(self) -> dict[str, str]:
        """Headers of the structured content mode: the content type, no `ce_` header.

        `correlation_id` is an application header (not a CloudEvents attribute; the event
        carries it as `correlationid`) so operators can follow a journey in a topic.
        """
        return {
            "content-type": STRUCTURED_CONTENT_TYPE,
            "correlation_id": self.correlationid or self.id,
        }

    @property
    def key(self) -> bytes:
        return self.subject.encode()


class UndecodableEvent(ValueError):
    """The bytes on the topic are not an event we can read; the reason says why.

    `errors` names the attributes at fault as (field, rule, message) where they are
    known, for answers that list them (the HTTP ingest, shared.ingest)."""

    def __init__(self, reason: str, errors: tuple[tuple[str, str, str], ...] = ()) -> None:
        super().__init__(reason)
        self.errors = errors


def new_event(
    event_type: str,
    *,
    source: str,
    subject: str,
    data: BaseModel,
    correlation_id: str | None = None,
    topic: str | None = None,
    event_id: str | None = None,
) -> Envelope:
    """Wrap a payload model in an envelope; the correlation id defaults to the event id,
    the id to a random one."""
    event_id = event_id or str(uuid.uuid4())
    return Envelope(
        id=event_id,
        type=event_type,
        source=source,
        subject=subject,
        dataschema=dataschema_uri(topic, event_type) if topic else None,
        correlationid=correlation_id or event_id,
        data=data.model_dump(mode="json"),
    )


Headers = Iterable[tuple[str, bytes | str | None]]


def decode_record(value: bytes | None, headers: Headers = ()) -> Envelope:
    """Read a Kafka record in either content mode of the CloudEvents Kafka binding.

    - structured: `content-type` starts with `application/cloudevents`; the value is the
      whole event (only the JSON format, `application/cloudevents+json`, is accepted);
    - binary: otherwise, with `ce_` headers carrying the attributes (`content-type` is
      `datacontenttype`) and only the data, JSON, in the value.

    A record with neither (no `content-type`, no `ce_specversion`) whose value is a JSON
    event is read as structured: that is what send-dps published before it set the
    content type, and what a council's plain JSON producer sends.
    """
    fields = _header_fields(headers)
    content_type = fields.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type.startswith("application/cloudevents"):
        if media_type != STRUCTURED_CONTENT_TYPE:
            raise UndecodableEvent(
                f"unsupported content-type {content_type!r}: structured mode takes "
                f"{STRUCTURED_CONTENT_TYPE!r} (one event per record, no batches)"
            )
        return decode_envelope(value)
    if CE_PREFIX + "specversion" in fields:
        return _decode_binary(value, fields)
    return decode_envelope(value)


def text_headers(headers: Headers) -> dict[str, str]:
    """A record's headers as text, kept with a dead letter so a retry sends them again."""
    return {
        name: raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        for name, raw in headers or ()
        if raw is not None
    }


def _header_fields(headers: Headers) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, raw in headers or ():
        if raw is None:
            continue
        try:
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError as exc:
            raise UndecodableEvent(f"header {name!r} is not UTF-8") from exc
        fields[name.lower()] = text
    return fields


def _decode_binary(value: bytes | None, fields: dict[str, str]) -> Envelope:
    document: dict[str, Any] = {
        name.removeprefix(CE_PREFIX): text
        for name, text in fields.items()
        if name.startswith(CE_PREFIX)
    }
    content_type = fields.get("content-type")
    if content_type:
        document["datacontenttype"] = content_type
        if not _is_json(content_type):
            raise UndecodableEvent(f"binary mode data must be JSON, not {content_type!r}")
    if value is None:
        raise UndecodableEvent("empty message (tombstone)")
    try:
        document["data"] = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UndecodableEvent(f"binary mode data is not JSON: {exc}") from exc
    return _validated(document)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def decode_envelope(raw: bytes | None) -> Envelope:
    """Parse a structured-mode value into an envelope or raise UndecodableEvent.

    pydantic's JSON parser reads a well-formed event in one pass; anything it refuses,
    or an event that leaves a required attribute to a default, takes the second path
    (json.loads, then the checks of `_validated`), which names what is wrong.
    """
    if raw is None:
        raise UndecodableEvent("empty message (tombstone)")
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError:
        pass
    else:
        if _complete(envelope):
            return envelope
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UndecodableEvent(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UndecodableEvent("not a JSON object")
    return _validated(document)


def _complete(envelope: Envelope) -> bool:
    """Whether a parsed event gave every attribute `_validated` requires itself (the
    model's defaults would otherwise invent an id or a specversion)."""
    return (
        envelope.specversion == "1.0"
        and _REQUIRED <= envelope.model_fields_set
        and bool(envelope.id and envelope.source and envelope.type)
    )


def validate_document(document: dict[str, Any]) -> Envelope:
    """A decoded JSON event (structured mode, over Kafka or HTTP) as an envelope, or
    UndecodableEvent naming what is wrong; the one check every way in goes through."""
    return _validated(document)


def _validated(document: dict[str, Any]) -> Envelope:
    if document.get("specversion") != "1.0":
        raise UndecodableEvent(
            "specversion must be '1.0' (CloudEvents 1.0)",
            (("specversion", "must_be_1.0", "specversion must be '1.0'"),),
        )
    missing = [name for name in REQUIRED_ATTRIBUTES if not document.get(name)]
    if missing:
        raise UndecodableEvent(
            "bad envelope: missing required CloudEvents attribute(s): "
            + ", ".join(missing)
            + " (the id must come from the producer, so a redelivery is recognised)",
            tuple(
                (name, "required", f"CloudEvents attribute {name} is required") for name in missing
            ),
        )
    try:
        return Envelope.model_validate(document)
    except ValidationError as exc:
        raise UndecodableEvent(
            f"bad envelope: {_first_errors(exc)}", tuple(field_rules(exc))
        ) from exc


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def field_rules(exc: ValidationError, prefix: str = "") -> list[tuple[str, str, str]]:
    """Every error of a validation as (dotted field path, rule, message): the rule is
    pydantic's error type (`missing`, `string_pattern_mismatch`, `value_error` ...)."""
    pairs = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        field = ".".join(part for part in (prefix, where) if part) or "(root)"
        pairs.append((field, error["type"], error["msg"]))
    return pairs


def describe_validation_error(exc: ValidationError) -> str:
    """A one-line reason naming the fields at fault, for DLQ records and logs."""
    return _first_errors(exc)
