"""Consuming events: decode, dedupe (inbox), apply in one transaction, then commit offsets.

A batch of records is applied in one transaction (inbox rows, domain rows and outbox rows
together) because one commit per message caps SQLite at about a thousand events a second.
If the batch fails, each event is retried on its own a bounded number of times, and one
that still fails is dead-lettered, so a poison message never blocks its partition.
Undecodable or schema-invalid messages are dead-lettered at once. Dead letters are written
to the service's own database and published to `<topic>.dlq` through the outbox, so they
survive a broker that loses its data.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import tracing
from shared.contracts import (
    TOPIC_MODULES,
    TOPICS,
    dlq_topic,
    payload_model,
    subject_is_personal,
    topic_personal_fields,
)
from shared.contracts.common import REDACTED, redact
from shared.db import Database
from shared.envelope import (
    Envelope,
    UndecodableEvent,
    decode_record,
    describe_validation_error,
    text_headers,
)
from shared.infra_models import DeadLetter, InboxEntry, OutboxMessage, utcnow
from shared.logging import get_logger
from shared.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_DUPLICATE, HANDLER_SECONDS
from shared.outbox_signal import wake_relay
from shared.unit_of_work import UnitOfWork

log = get_logger(__name__)

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, Sequence[tuple[Envelope, Any]]], Awaitable[None]]


def batch_handler(handler: BatchHandler) -> Handler:
    """Mark a handler that takes a run of consecutive events at once (the events of
    every type it is registered for, in the batch's order).

    A hot path (e.g. a council's bulk load of EHC plans) then reads and writes its rows
    with one query per run instead of one per event. It must give the same result as
    applying the events one by one in order, and call `uow.answering(envelope)` before
    handling each event (its correlation id, and its id as the cause of what it emits).
    """
    handler.handles_batch = True  # type: ignore[attr-defined]
    return handler  # type: ignore[return-value]


@dataclass(frozen=True)
class Decoded:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope
    payload: BaseModel


@dataclass(frozen=True)
class Poison:
    """A record that cannot be applied; `kind` is a small fixed set, for metrics."""

    record: ConsumerRecord[Any, Any]
    kind: str  # undecodable | unknown_type | invalid_payload | handler_failed
    reason: str
    envelope: Envelope | None = None


@dataclass(frozen=True)
class DecodedBatch:
    """A batch's records decoded, in order: those to apply and those to dead-letter."""

    decoded: Sequence[Decoded]
    poison: Sequence[Poison]
    decoding_s: float


# Records decoded between two turns of the event loop: about a millisecond of CPU.
DECODE_SLICE = 50


class EventConsumer:
    """Applies one topic's events to one service's database through its handlers."""

    def __init__(
        self,
        *,
        service: str,
        topic: str,
        handlers: dict[str, Handler],
        db: Database,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
    ) -> None:
        self.service = service
        self.topic = topic
        self.handlers = handlers
        self.db = db
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s

    # -- decoding -------------------------------------------------------------------
    def decode(self, record: ConsumerRecord[Any, Any]) -> Decoded | Poison | None:
        """Decode one record; None means a valid event this service does not handle."""
        try:
            envelope = decode_record(record.value, record.headers)  # either CloudEvents mode
        except UndecodableEvent as exc:
            return Poison(record, "undecodable", str(exc))
        model = payload_model(self.topic, envelope.type)
        if model is None:
            reason = f"unknown event type {envelope.type!r} on {self.topic}"
            return Poison(record, "unknown_type", reason, envelope)
        if envelope.type not in self.handlers:
            return None
        try:
            payload = model.model_validate(envelope.data)
        except ValidationError as exc:
            reason = f"invalid {envelope.type} data: {describe_validation_error(exc)}"
            return Poison(record, "invalid_payload", reason, envelope)
        return Decoded(record, envelope, payload)

    async def decode_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> DecodedBatch:
        """Decode a batch, giving the event loop a turn before each `DECODE_SLICE` records.

        The subscriber decodes a batch while the one before is being applied
        (shared.bus.InTurn): between slices, that batch takes up its statements' answers
        and sends its next statement, so the database works while this decodes.
        """
        started = time.perf_counter()
        decoded: list[Decoded] = []
        poison: list[Poison] = []
        for start in range(0, len(records), DECODE_SLICE):
            await asyncio.sleep(0)
            for record in records[start : start + DECODE_SLICE]:
                outcome = self.decode(record)
                if isinstance(outcome, Decoded):
                    decoded.append(outcome)
                elif isinstance(outcome, Poison):
                    poison.append(outcome)
        return DecodedBatch(decoded, poison, time.perf_counter() - started)

    # -- applying -------------------------------------------------------------------
    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply a batch; when this returns, every record is applied or dead-lettered."""
        await self.apply_batch(await self.decode_batch(records))

    async def apply_batch(self, batch: DecodedBatch) -> None:
        """Apply a decoded batch; when this returns, every record is applied or
        dead-lettered. Raises only when the database is away (apply it again later)."""
        started = time.perf_counter()
        try:
            await self._apply(batch.decoded, batch.poison)
        except Exception as exc:
            if not await self._database_up():
                raise  # not the messages' fault: leave offsets uncommitted and retry later
            log.warning("consumer.batch_failed", topic=self.topic, error=repr(exc))
            await self._apply_one_by_one(batch.decoded, batch.poison)
        seconds = batch.decoding_s + time.perf_counter() - started
        HANDLER_SECONDS.labels(self.service, self.topic).observe(seconds)

    async def _apply(self, decoded: Sequence[Decoded], poison: Sequence[Poison]) -> None:
        async with self.db.transaction() as session:
            uow = UnitOfWork(session=session, source=f"dps/{self.service}")
            fresh = await self._claim(uow, decoded)
            for run in self._runs_of_one_handler(fresh):
                handler = self.handlers[run[0].envelope.type]
                uow.causation_id = None  # a batch handler names each cause (answering)
                if getattr(handler, "handles_batch", False):
                    with tracing.consuming_run(self.topic, [item.record for item in run]):
                        await handler(uow, [(item.envelope, item.payload) for item in run])  # type: ignore[call-arg, arg-type]
                else:
                    for item in run:
                        await self._apply_event(uow, handler, item)
            for bad in poison:
                self._dead_letter(uow, bad)
        if uow.emitted or poison:
            wake_relay()
        self._count(fresh, poison)

    def _runs_of_one_handler(self, items: Sequence[Decoded]) -> list[list[Decoded]]:
        """Split into runs of consecutive events for one handler, keeping the order."""
        runs: list[list[Decoded]] = []
        for item in items:
            handler = self.handlers[item.envelope.type]
            if runs and self.handlers[runs[-1][0].envelope.type] is handler:
                runs[-1].append(item)
            else:
                runs.append([item])
        return runs

    async def _claim(self, uow: UnitOfWork, decoded: Sequence[Decoded]) -> list[Decoded]:
        """Record the batch's events in the inbox and return those not applied before,
        each once even if repeated in the batch.

        One statement reads and writes the inbox: INSERT ... ON CONFLICT DO NOTHING
        RETURNING names the ids that were new. The rows are part of this transaction, so
        they are kept only if the effects commit with them (and on PostgreSQL a second
        consumer inserting the same id waits for this transaction, then skips it).
        """
        claimed = await claim_events(uow.session, self.topic, [d.envelope for d in decoded])
        fresh = []
        for item in decoded:
            if item.envelope.id not in claimed:
                EVENTS_DUPLICATE.labels(self.service, self.topic).inc()
                continue
            claimed.discard(item.envelope.id)
            fresh.append(item)
        return fresh

    async def _apply_event(self, uow: UnitOfWork, handler: Handler, item: Decoded) -> None:
        envelope = item.envelope
        uow.answering(envelope)
        with (
            structlog.contextvars.bound_contextvars(
                event_id=envelope.id, event_type=envelope.type, correlation_id=uow.correlation_id
            ),
            tracing.consuming(self.topic, envelope.type, item.record.headers),
        ):
            await handler(uow, envelope, item.payload)
            # The event id traces a child's event; the child reference stays out of logs.
            subject = None if subject_is_personal(self.topic) else envelope.subject
            log.info("event.applied", topic=self.topic, subject=subject)

    async def _apply_one_by_one(self, decoded: Sequence[Decoded], poison: Sequence[Poison]) -> None:
        for bad in poison:
            await self._apply((), (bad,))
        for item in decoded:
            await self._apply_with_retries(item)

    async def _apply_with_retries(self, item: Decoded) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._apply((item,), ())
                return
            except Exception as exc:
                if not await self._database_up():
                    raise
                log.warning(
                    "consumer.event_failed",
                    event_id=item.envelope.id,
                    attempt=attempt,
                    error=repr(exc),
                )
                last_error = exc
                await asyncio.sleep(self.retry_backoff_s * attempt)
        reason = f"handler failed after {self.max_attempts} attempts: {last_error!r}"
        await self._apply((), (Poison(item.record, "handler_failed", reason, item.envelope),))

    async def _database_up(self) -> bool:
        try:
            await self.db.ping()
            return True
        except Exception:
            return False

    # -- dead letters ---------------------------------------------------------------
    def _dead_letter(self, uow: UnitOfWork, bad: Poison) -> None:
        record = bad.record
        key = record.key.decode(errors="replace") if isinstance(record.key, bytes) else None
        payload = record.value if isinstance(record.value, bytes) else b""
        headers = text_headers(record.headers)  # a binary-mode event's attributes
        uow.session.add(
            DeadLetter(
                topic=self.topic,
                partition=record.partition,
                offset=record.offset,
                key=key,
                event_id=bad.envelope.id if bad.envelope else None,
                event_type=bad.envelope.type if bad.envelope else None,
                reason=bad.reason[:2000],
                payload=payload,
                headers=headers,
            )
        )
        uow.session.add(
            OutboxMessage(
                event_id=f"dlq:{self.service}:{record.topic}:{record.partition}:{record.offset}",
                topic=dlq_topic(self.topic),
                event_type="dps.dead_letter",
                key=key or "",
                payload=payload,
                headers={
                    **headers,
                    "dlq_kind": bad.kind,
                    "dlq_reason": bad.reason[:2000],
                    "dlq_topic": record.topic,
                    "dlq_partition": str(record.partition),
                    "dlq_offset": str(record.offset),
                    "dlq_consumer": self.service,
                },
            )
        )
        log.warning(
            "event.dead_lettered",
            topic=self.topic,
            partition=record.partition,
            offset=record.offset,
            reason=bad.reason,
        )

    def _count(self, decoded: Sequence[Decoded], poison: Sequence[Poison]) -> None:
        # One increment per label set and batch: a labelled counter costs microseconds.
        for event_type, n in Counter(item.envelope.type for item in decoded).items():
            EVENTS_CONSUMED.labels(self.service, self.topic, event_type).inc(n)
        for kind, n in Counter(bad.kind for bad in poison).items():
            EVENTS_DEAD_LETTERED.labels(self.service, self.topic, kind).inc(n)


# The batch's inbox rows as one statement with one parameter, a JSON array of
# [id, type] pairs: a multi-row VALUES of 500 rows cost more to compile in SQLAlchemy
# (and to parse in psycopg) than the database took to run it, and psycopg's text arrays
# escape each element in Python.
_APPLIED_AT = bindparam("applied_at", type_=InboxEntry.__table__.c.applied_at.type)  # type: ignore[attr-defined]
_CLAIM = {
    "postgresql": text(
        "INSERT INTO inbox (event_id, topic, event_type, applied_at)"
        " SELECT e.value ->> 0, CAST(:topic AS VARCHAR), e.value ->> 1, :applied_at"
        " FROM json_array_elements(CAST(:rows AS JSON)) AS e(value)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
    ).bindparams(_APPLIED_AT),
    "sqlite": text(
        "INSERT INTO inbox (event_id, topic, event_type, applied_at)"
        " SELECT json_extract(e.value, '$[0]'), :topic, json_extract(e.value, '$[1]'),"
        " :applied_at FROM json_each(:rows) AS e"
        " WHERE true"  # SQLite's parser needs it before ON CONFLICT after a SELECT
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
    ).bindparams(_APPLIED_AT),
}


async def claim_events(
    session: AsyncSession, topic: str, envelopes: Sequence[Envelope]
) -> set[str]:
    """Insert inbox rows for these events; return the ids that were not there before."""
    types: dict[str, str] = {}
    for envelope in envelopes:
        types.setdefault(envelope.id, envelope.type)
    if not types:
        return set()
    statement = _CLAIM[session.get_bind().dialect.name]
    rows = json.dumps(list(types.items()))
    params = {"topic": topic, "applied_at": utcnow(), "rows": rows}
    return set((await session.execute(statement, params)).scalars())


def next_offsets(records: Sequence[ConsumerRecord[Any, Any]]) -> dict[TopicPartition, int]:
    """The offsets to commit after a batch: one past the last record of each partition."""
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
    return offsets


# -- retention of dead letters (UK GDPR Art. 5(1)(c), (e)) -----------------------------
# A dead letter keeps its payload for ``dead_letter_retention_days`` so it can be retried
# once its fault is fixed; after that the fields the topic's contracts mark personal are
# redacted (so is a subject or key equal to one of them, e.g. a child reference), a payload
# that is not JSON is dropped, and the dead letter can no longer be retried.


def _personal_names(topic: str) -> frozenset[str]:
    base = topic.removesuffix(".dlq")
    if base in TOPIC_MODULES:
        return topic_personal_fields(base)
    return frozenset().union(*(topic_personal_fields(t) for t in TOPICS))


def _personal_values(data: Any, names: frozenset[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in names and isinstance(value, str):
                found.add(value)
            found |= _personal_values(value, names)
    elif isinstance(data, list):
        for item in data:
            found |= _personal_values(item, names)
    return found


def redact_message(topic: str, raw: bytes, key: str | None = None) -> tuple[bytes, str | None]:
    """A stored message and its key with every personal field of ``topic`` redacted."""
    payload, key, _found = _redact(topic, raw, key)
    return payload, key


def _redact(topic: str, raw: bytes, key: str | None) -> tuple[bytes, str | None, set[str] | None]:
    """Redacted payload and key, and the personal values found (None: unreadable)."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        document = None
    if not isinstance(document, dict):
        return b"", REDACTED if key else key, None  # cannot tell what is in it: keep none
    names = _personal_names(topic)
    found = _personal_values(document, names)
    redacted = redact(document, names)
    if redacted.get("subject") in found:
        redacted["subject"] = REDACTED
    return json.dumps(redacted).encode(), REDACTED if key in found else key, found


def redacted_copy(
    topic: str, raw: bytes, key: str | None, headers: dict[str, Any] | None
) -> tuple[bytes, str | None, dict[str, Any]]:
    """What an operator may see of a dead letter: its payload, key and headers with every
    field the topic's contracts mark personal redacted (the stored row keeps them, so
    it can still be retried)."""
    payload, kept_key, found = _redact(topic, raw, key)
    return payload, kept_key, redact_headers(headers, found)


def redact_headers(headers: dict[str, Any] | None, found: set[str] | None) -> dict[str, Any]:
    """Kafka headers with personal values redacted: a binary-mode event carries its subject
    (a child reference) in ``ce_subject``. Unreadable payload (``found`` None): every
    CloudEvents attribute header goes, since what it named cannot be told."""
    kept: dict[str, Any] = {}
    for name, value in (headers or {}).items():
        if (found is None and name.startswith("ce_")) or (found and value in found):
            kept[name] = REDACTED
        else:
            kept[name] = value
    return kept


async def redact_dead_letters(db: Database, retention: timedelta, now: datetime) -> int:
    """Redact dead letters (and their ``<topic>.dlq`` outbox rows) older than
    ``retention``; returns how many dead letters were redacted."""
    cutoff = now - retention
    async with db.transaction() as session:
        dead = (
            await session.exec(
                select(DeadLetter)
                .where(col(DeadLetter.payload_redacted_at).is_(None))
                .where(col(DeadLetter.dead_lettered_at) < cutoff)
            )
        ).all()
        for row in dead:
            row.payload, row.key, found = _redact(row.topic, row.payload, row.key)
            if row.headers:
                row.headers = redact_headers(row.headers, found)
            row.payload_redacted_at = now
            session.add(row)
        copies = (
            await session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.event_type) == "dps.dead_letter")
                .where(col(OutboxMessage.created_at) < cutoff)
            )
        ).all()
        for copy in copies:
            payload, key, found = _redact(copy.topic, copy.payload, copy.key)
            copy.payload, copy.key = payload, key or ""
            copy.headers = redact_headers(copy.headers, found)
            session.add(copy)
    return len(dead)
