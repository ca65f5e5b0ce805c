"""Tables every service database holds beside its own: outbox, inbox, dead letters, audit.

They live in their own SQLModel registry so that four services' tables, imported into
one test process, never collide in one metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

infra_registry = registry()


class AwareDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware (UTC).

    SQLite drops the zone on the way in; the domain refuses naive times, so restore it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Aware UTC, as SQLModel's datetime columns require."""
    return datetime.now(UTC)


class InfraModel(SQLModel, registry=infra_registry):
    """Base of the shared infrastructure tables."""


class OutboxMessage(InfraModel, table=True):
    """An event written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unpublished", "published_at", "seq"),
        # A placement's (or any subject's) recent events, in order, for its API view.
        Index("ix_outbox_key", "key", "seq"),
    )

    # BIGINT in PostgreSQL; INTEGER in SQLite so that it is the auto-incrementing rowid.
    seq: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    event_id: str = Field(max_length=100, index=True)
    topic: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    key: str = Field(max_length=200)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    published_at: datetime | None = Field(default=None)
    attempts: int = 0
    # Set only to send a record back to a given partition (a retried dead letter goes
    # back to the partition it came from); None: the producer's partitioner picks by key.
    partition: int | None = Field(default=None)


class InboxEntry(InfraModel, table=True):
    """An event id this service has applied; a redelivery of it changes nothing."""

    __tablename__ = "inbox"

    event_id: str = Field(primary_key=True, max_length=100)
    topic: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    applied_at: datetime = Field(default_factory=utcnow)


class DeadLetter(InfraModel, table=True):
    """A message this service could not apply, kept with why, for `dps dlq`."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=200, index=True)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    key: str | None = Field(default=None, max_length=200)
    event_id: str | None = Field(default=None, max_length=100)
    event_type: str | None = Field(default=None, max_length=200)
    reason: str = Field(max_length=2000)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The record's Kafka headers: a binary-mode CloudEvent's attributes live there, so a
    # retry must publish them again with the value.
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    dead_lettered_at: datetime = Field(default_factory=utcnow)
    retried_at: datetime | None = None
    # Set when the payload was redacted after its retention period (shared.consumer
    # .redact_dead_letters): a redacted dead letter can no longer be retried.
    payload_redacted_at: datetime | None = None


class LeaseRow(InfraModel, table=True):
    """Which replica of a service holds a once-per-service job (relay, pruning, sweeps),
    until when; another replica takes it over once it has expired (shared.leases)."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))


class AuditEntry(InfraModel, table=True):
    """Who read or changed what, when, from which request and why: one link of the
    service's hash chain (shared.audit). Rows are only ever inserted; the database
    refuses UPDATE and DELETE (migration 000N_audit_chain)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_seq", "seq", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)  # the token's subject
    role: str = Field(max_length=50)
    action: str = Field(max_length=200)
    entity: str = Field(max_length=100)
    entity_id: str = Field(max_length=100, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    correlation_id: str | None = Field(default=None, max_length=100)
    # The child's keyed pseudonym (shared.pseudonym), never the reference itself: so
    # retention has nothing to rewrite here and the trail holds no direct identifier.
    child_ref: str | None = Field(default=None, max_length=100, index=True)
    # Position in the chain (1, 2, ...), the previous link's hash and this row's own
    # sha256 over its canonical form (shared.audit.row_hash).
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False))
    prev_hash: str = Field(default="", max_length=64)
    row_hash: str = Field(default="", max_length=64)


class IdempotencyRecord(InfraModel, table=True):
    """A POST made with an Idempotency-Key and the answer it got (shared.idempotency):
    the same key and request again get this answer, never a second create."""

    __tablename__ = "idempotency_key"

    subject: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    # None while the first request is still being served.
    status_code: int | None = None
    content_type: str | None = Field(default=None, max_length=200)
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False, index=True))
    # When the request's change was committed (in that same transaction); a claim with
    # this set and no answer was carried out, and is never carried out again.
    committed_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
