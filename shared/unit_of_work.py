"""A unit of work: one transaction holding a change, its events (outbox) and its audit.

Handlers and API routes both work through it, so "a state change and the events it
causes are written in one database transaction" holds everywhere by construction.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import audit
from shared.contracts.base import Event
from shared.db import Database
from shared.envelope import Envelope, new_event
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.outbox import OUTBOX
from shared.outbox_signal import wake_relay
from shared.tracing import trace_headers

log = get_logger(__name__)


@dataclass
class Actor:
    """Who is acting: a person's token subject, or a service acting on an event."""

    id: str
    role: str
    provider_id: str | None = None


@dataclass
class UnitOfWork:
    session: AsyncSession
    source: str
    correlation_id: str | None = None
    # The event being applied (set by the consumer, or by a batch handler through
    # `answering`): what it causes gets ids derived from it (`caused_event_id`).
    causation_id: str | None = None
    emitted: list[Envelope] = field(default_factory=list)
    _caused: Counter[tuple[str, ...]] = field(default_factory=Counter)

    def answering(self, envelope: Envelope) -> None:
        """Handle `envelope` next: its correlation id and its id as the cause."""
        self.correlation_id = envelope.correlationid or envelope.id
        self.causation_id = envelope.id

    def emit(self, event: Event, *, correlation_id: str | None = None) -> Envelope:
        """Stage ``event`` in the outbox; it is published only if the transaction commits.

        Topic, type and subject come from the event itself (``shared.contracts.base``).
        The correlation id is the one of the event or request being handled, unless a
        batch handler names the event it is answering. The outbox row is written at
        commit (`insert_at_commit`), after the rows emitted before it in the transaction.
        """
        topic, event_type, subject = event.TOPIC, event.TYPE, event.subject()
        event_id = None
        if self.causation_id is not None:
            key = (self.causation_id, topic, event_type, subject)
            event_id = caused_event_id(self.source, *key, self._caused[key])
            self._caused[key] += 1
        envelope = new_event(
            event_type,
            source=self.source,
            subject=subject,
            data=event,
            correlation_id=correlation_id or self.correlation_id,
            topic=topic,
            event_id=event_id,
        )
        insert_at_commit(self.session.sync_session, OUTBOX, outbox_values(topic, envelope))
        self.emitted.append(envelope)
        return envelope

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` in the background once this transaction commits (never on rollback).

        For side effects outside the database, such as starting a Temporal workflow for a
        row this transaction creates. Whatever it starts must also be started by a sweep,
        since the process may die between the commit and the action. It runs in the
        context it was registered in (the handler's trace span and log fields).
        """
        context = contextvars.copy_context()

        def fire(_session: object) -> None:
            task = asyncio.get_running_loop().create_task(_logged(action), context=context)
            _after_commit_tasks.add(task)
            task.add_done_callback(_after_commit_tasks.discard)

        event.listen(self.session.sync_session, "after_commit", fire, once=True)

    def audit(
        self,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: str,
        *,
        child: str | None = None,
        **details: Any,
    ) -> None:
        """Record who did what to which entity, in this transaction (shared.audit links
        it into the chain at commit). `child`: the child's pseudonym (shared.pseudonym),
        never the reference itself; `details` say why (a `reason`) and what changed."""
        self.audit_each(actor, action, entity, [(entity_id, child)], **details)

    def audit_each(
        self,
        actor: Actor,
        action: str,
        entity: str,
        records: Iterable[tuple[str, str | None]],
        **details: Any,
    ) -> None:
        """`audit` once per (entity id, child's pseudonym) in `records`, in order: the
        rows alike but for those and their time (a list read, say)."""
        audit.stage(
            self.session.sync_session,
            audit_rows(actor, action, entity, records, details, self.correlation_id),
        )


def audit_rows(
    actor: Actor,
    action: str,
    entity: str,
    records: Iterable[tuple[str, str | None]],
    details: dict[str, Any],
    correlation_id: str | None,
) -> list[audit.Row]:
    """The audit rows `UnitOfWork.audit_each` stages, for `shared.audit.stage`."""
    at = utcnow()  # one read or write, one moment
    return [
        {
            "at": at,
            "actor": actor.id,
            "role": actor.role,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "child_ref": child,
            "details": details,
            "correlation_id": correlation_id,
        }
        for entity_id, child in records
    ]


_after_commit_tasks: set[asyncio.Task[None]] = set()

_CAUSED = uuid.UUID("6f1c2a52-9d0e-4c41-9a57-3f0b8f0c2d17")  # namespace of derived ids


def caused_event_id(
    source: str, cause: str, topic: str, event_type: str, subject: str, n: int
) -> str:
    """The id of the n-th event of this type and subject that `source` emits while
    applying event `cause`: the same every time the cause is applied.

    So applying an event again after the service's database was restored from a backup
    (docs/operations.md, "Back up and restore a service's database") publishes what it
    caused with the ids it had the first time, and consumers' inboxes drop those repeats.
    """
    return str(uuid.uuid5(_CAUSED, f"{source}|{cause}|{topic}|{event_type}|{subject}|{n}"))


async def _logged(action: Callable[[], Awaitable[None]]) -> None:
    try:
        await action()
    except Exception as exc:  # the sweep retries; the request has already succeeded
        log.warning("after_commit.failed", error=repr(exc))


def outbox_values(topic: str, envelope: Envelope) -> dict[str, Any]:
    """The outbox row of an event, every column but the database's `seq`."""
    return {
        "event_id": envelope.id,
        "topic": topic,
        "event_type": envelope.type,
        "key": envelope.subject,
        "payload": envelope.to_bytes(),
        # CloudEvents structured content mode, and the W3C trace context of the request
        # or event being handled (shared.tracing): the consumer continues its trace.
        "headers": {**envelope.kafka_headers(), **trace_headers()},
        "created_at": utcnow(),
        "published_at": None,
        "attempts": 0,
        "partition": None,
    }


# -- rows written at commit -------------------------------------------------------------
#
# The ORM inserts a row whose key the database assigns (an autoincrement `seq` or `id`)
# one statement per row on SQLite, to read each key back. Rows nothing reads back in the
# transaction that writes them (outbox rows, alert deliveries) are staged instead and
# written when it commits: one executemany per table, in the order they were staged.

_STAGED = "dps_staged_inserts"


def insert_at_commit(session: Session, table: Table, row: dict[str, Any]) -> None:
    """Insert `row` (every column but the database's key; the same columns for every
    row of `table`) when this session's transaction commits; never if it rolls back."""
    staged: dict[Table, list[dict[str, Any]]] = session.info.setdefault(_STAGED, {})
    staged.setdefault(table, []).append(row)


# Before the audit chain's listener (insert=True): the chain's lock is held only to link.
@event.listens_for(Session, "before_commit", insert=True)
def _insert_staged(session: Session) -> None:
    staged: dict[Table, list[dict[str, Any]]] = session.info.pop(_STAGED, {})
    for table, rows in staged.items():
        session.execute(insert(table), rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_staged(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back transaction's rows are never written by a later commit.
    if transaction.parent is None:
        session.info.pop(_STAGED, None)


# The correlation id of the HTTP request being served (set by shared.http), so events a
# route emits carry it without every route passing it along.
current_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


@asynccontextmanager
async def unit_of_work(
    db: Database, source: str, correlation_id: str | None = None
) -> AsyncIterator[UnitOfWork]:
    """Open a transaction; on clean exit commit it and wake the outbox relay."""
    correlation_id = correlation_id or current_correlation_id.get()
    async with db.transaction() as session:
        uow = UnitOfWork(session=session, source=source, correlation_id=correlation_id)
        yield uow
    if uow.emitted:
        wake_relay()
