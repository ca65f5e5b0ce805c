"""HTTP ingest of CloudEvents for producers that cannot reach Kafka (issue 16).

A council's case system POSTs the events it would have produced to a topic: one event in
structured mode (`Content-Type: application/cloudevents+json`) or a batch
(`application/cloudevents-batch+json`, a JSON array), as the CloudEvents 1.0 JSON event
format (§4 "JSON Batch Format") and HTTP protocol binding (§3.2 structured, §3.3 batched
content mode) define them.

Each event is checked exactly as the topic's consumer checks a Kafka record
(`shared.envelope.validate_document`, then the topic's contract model), and answered on
its own: accepted, duplicate (its id was accepted before: in the outbox or the inbox) or
rejected with `{field, rule, message}` reasons. Accepted events are written, in the
body's order, to the service's outbox on the topic, keyed by `subject`, in one
transaction that commits before the answer: the relay then publishes them to the topic
(per-key order kept) and the service's own consumer applies them like any other record.
Two requests racing with one id may both be answered "accepted"; the consumer's inbox
still applies it once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.contracts import payload_model
from shared.envelope import Envelope, UndecodableEvent, field_rules, validate_document
from shared.infra_models import InboxEntry, OutboxMessage
from shared.unit_of_work import outbox_values

SINGLE_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
MAX_EVENTS = 500
MAX_BODY_BYTES = 4 * 1024 * 1024

Status = Literal["accepted", "duplicate", "rejected"]


class BodyRefused(ValueError):
    """The body as a whole cannot be read (413, 415 or 422); nothing was written."""

    def __init__(self, status_code: int, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = [{"field": field, "rule": rule, "message": message}]


class RuleBroken(BaseModel):
    field: str
    rule: str
    message: str | None = None


class EventAnswer(BaseModel):
    """What became of one event of the body."""

    index: int
    id: str | None
    status: Status
    errors: list[RuleBroken] = []


class IngestAnswer(BaseModel):
    """The answer to a body of events: counts, and each event's fate in order."""

    accepted: int
    duplicate: int
    rejected: int
    results: list[EventAnswer]


@dataclass
class EventResult:
    index: int
    id: str | None
    status: Status
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "id": self.id, "status": self.status}
        if self.errors:
            body["errors"] = self.errors
        return body


@dataclass(frozen=True)
class Checked:
    """One event of a body: valid (envelope) or not (result)."""

    index: int
    envelope: Envelope | None
    rejection: EventResult | None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def read_body(content_type: str | None, raw: bytes) -> tuple[list[Any], bool]:
    """The events of a body and whether it was a batch; BodyRefused if unreadable."""
    kind = media_type(content_type)
    if kind not in (SINGLE_CONTENT_TYPE, BATCH_CONTENT_TYPE):
        raise BodyRefused(
            415,
            "content-type",
            "unsupported_media_type",
            f"send {SINGLE_CONTENT_TYPE} (one event) or {BATCH_CONTENT_TYPE} (a JSON array), "
            f"not {content_type or 'nothing'!r}",
        )
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyRefused(422, "(body)", "not_json", f"the body is not JSON: {exc}") from exc
    if kind == SINGLE_CONTENT_TYPE:
        if not isinstance(document, dict):
            raise BodyRefused(
                422,
                "(body)",
                "not_an_object",
                f"{SINGLE_CONTENT_TYPE} carries one event, a JSON object; "
                f"send a batch as {BATCH_CONTENT_TYPE}",
            )
        return [document], False
    if not isinstance(document, list) or not document:
        raise BodyRefused(
            422, "(body)", "not_a_batch", f"{BATCH_CONTENT_TYPE} is a non-empty JSON array"
        )
    if len(document) > MAX_EVENTS:
        raise BodyRefused(
            413,
            "(body)",
            "too_many_events",
            f"{len(document)} events; at most {MAX_EVENTS} per request",
        )
    return document, True


def too_large() -> BodyRefused:
    return BodyRefused(
        413, "(body)", "too_large", f"the body is over {MAX_BODY_BYTES} bytes; send smaller batches"
    )


def _rejected(index: int, event_id: str | None, errors: Sequence[tuple[str, str, str]]) -> Checked:
    reasons = [{"field": f, "rule": r, "message": m} for f, r, m in errors]
    return Checked(index, None, EventResult(index, event_id, "rejected", reasons))


def check_event(topic: str, index: int, document: Any) -> Checked:
    """One event checked as the topic's consumer checks it (shared.consumer.decode)."""
    if not isinstance(document, dict):
        return _rejected(index, None, [("(event)", "not_an_object", "an event is a JSON object")])
    raw_id = document.get("id")
    event_id = raw_id if isinstance(raw_id, str) and raw_id else None
    try:
        envelope = validate_document(document)
    except UndecodableEvent as exc:
        return _rejected(index, event_id, exc.errors or [("(event)", "undecodable", str(exc))])
    model = payload_model(topic, envelope.type)
    if model is None:
        message = f"unknown event type {envelope.type!r} on {topic}"
        return _rejected(index, event_id, [("type", "unknown_event_type", message)])
    try:
        model.model_validate(envelope.data)
    except ValidationError as exc:
        return _rejected(index, event_id, field_rules(exc, prefix="data"))
    return Checked(index, envelope, None)


def check_events(topic: str, documents: Sequence[Any]) -> list[Checked]:
    return [check_event(topic, index, document) for index, document in enumerate(documents)]


async def ingest(session: AsyncSession, topic: str, documents: Sequence[Any]) -> list[EventResult]:
    """Check every event and stage the new valid ones in the outbox, in the caller's
    transaction (which wakes the relay once it commits: `wake_relay`); answer each."""
    checked = check_events(topic, documents)
    ids = [c.envelope.id for c in checked if c.envelope is not None]
    results: list[EventResult] = []
    rows: list[dict[str, Any]] = []
    seen = await _already_accepted(session, topic, ids)
    for item in checked:
        if item.envelope is None:
            assert item.rejection is not None
            results.append(item.rejection)
            continue
        envelope = item.envelope
        if envelope.id in seen:
            results.append(EventResult(item.index, envelope.id, "duplicate"))
            continue
        seen.add(envelope.id)
        rows.append(outbox_values(topic, envelope))
        results.append(EventResult(item.index, envelope.id, "accepted"))
    if rows:  # one multi-row INSERT, in the body's order (the relay keeps it per key)
        await session.execute(insert(OutboxMessage), rows)
    return results


async def _already_accepted(session: AsyncSession, topic: str, ids: list[str]) -> set[str]:
    """Ids accepted before: still in the outbox, or already applied (inbox)."""
    if not ids:
        return set()
    seen: set[str] = set()
    for start in range(0, len(ids), 400):  # below SQLite's bound-parameter limit
        chunk = ids[start : start + 400]
        outbox = await session.exec(
            select(OutboxMessage.event_id)
            .where(col(OutboxMessage.topic) == topic)
            .where(col(OutboxMessage.event_id).in_(chunk))
        )
        inbox = await session.exec(
            select(InboxEntry.event_id).where(col(InboxEntry.event_id).in_(chunk))
        )
        seen.update(outbox.all())
        seen.update(inbox.all())
    return seen


def summary(results: Sequence[EventResult]) -> dict[str, Any]:
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for result in results:
        counts[result.status] += 1
    return {**counts, "results": [result.to_dict() for result in results]}
