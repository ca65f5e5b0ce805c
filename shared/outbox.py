"""The outbox relay: publishes committed events to Kafka (acks=all) and marks them sent.

Rows are kept for a retention window after publishing so that `replay` can re-publish
them when the broker has lost its data; consumers' inboxes make the repeat harmless.

Several replicas may run the relay. On PostgreSQL each batch is claimed under the
service's "outbox-relay" lease (shared.leases) in the transaction that marks it sent, so
exactly one relay publishes at a time, rows go out once and every key keeps its order;
the others stand by and take over when the holder's lease expires. SQLite is one
process's file (embedded mode): it runs one relay and needs no lease.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, update
from sqlalchemy import select as select_columns
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import outbox_signal
from shared.db import Database
from shared.envelope import STRUCTURED_CONTENT_TYPE
from shared.infra_models import InboxEntry, OutboxMessage, utcnow
from shared.leases import Lease
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = get_logger(__name__)


# Sends one record (topic, key, value, headers, partition or None for the key's
# partition) and returns an awaitable that resolves once the broker has it, so a batch is
# pipelined rather than sent one round trip at a time.
Publisher = Callable[[str, bytes, bytes, dict[str, str], int | None], Awaitable[Awaitable[Any]]]

# The relay reads and marks rows as plain columns (no ORM object per row, and no
# synchronising of the session's objects on update): half its CPU per batch.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_MARK_PUBLISHED = (
    update(OUTBOX)
    .where(OUTBOX.c.seq.in_(bindparam("seqs", expanding=True)))
    .values(published_at=bindparam("now"), attempts=OUTBOX.c.attempts + 1)
)
OutboxRecord = OutboxMessage | Row[Any]  # a stored row, as an object or as columns

# Before the CloudEvents binding was followed, rows were stored with these headers and
# no content type; published as they are, a binding receiver would read them as binary
# mode and fail. They are sent with the structured mode's headers instead.
_LEGACY_HEADERS = {"ce_type", "ce_id", "correlation_id"}


def wire_headers(row: OutboxRecord) -> dict[str, str]:
    """The Kafka headers a row is published with (CloudEvents structured mode).

    Only rows of exactly the old shape are rewritten; a dead letter's or a retry's
    headers are the original record's and go out as they came.
    """
    headers = {k: str(v) for k, v in row.headers.items()}
    if "ce_type" in headers and set(headers) <= _LEGACY_HEADERS:
        headers = {k: v for k, v in headers.items() if k == "correlation_id"}
        headers["content-type"] = STRUCTURED_CONTENT_TYPE
    return headers


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publish: Publisher,
        *,
        service: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        max_backoff_s: float = 10.0,
        lease: Lease | None = None,
        broker_intact: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """`broker_intact`: asked before each batch is sent; True means the broker had
        lost its data and our kept rows were marked for sending again (BrokerWatch), so
        the batch is read again and the older rows go first, keeping each key's order."""
        self.db = db
        self.publish = publish
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        self.lease = lease
        self.broker_intact = broker_intact
        self._wake = asyncio.Event()
        # Built once: on SQLite building a statement costs about as much as running it.
        self._unpublished_rows = (
            select_columns(OUTBOX)
            .where(OUTBOX.c.published_at.is_(None))
            .order_by(OUTBOX.c.seq)
            .limit(batch_size)
        )

    async def run(self) -> None:
        """Publish forever; back off on broker errors, wake early when a commit says so."""
        outbox_signal.register(self._wake)
        backoff = 0.0
        try:
            while True:
                try:
                    published = await self.publish_pending()
                    backoff = 0.0
                except Exception as exc:  # broker or database away: retry, never give up
                    backoff = min(self.max_backoff_s, max(0.1, backoff * 2))
                    log.warning("outbox.publish_failed", error=str(exc), retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    continue
                if published < self.batch_size:
                    await self._idle()
        finally:
            outbox_signal.unregister(self._wake)

    async def _idle(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)
        except TimeoutError:
            pass
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows in outbox order; return how many.

        The batch is read, sent (acks=all) and marked in one transaction: under the
        lease when there is one, so no other relay sends anything meanwhile.
        """
        if self.lease is None:
            rows = await self._send_batch()
        else:
            standby_or_rows = await self._send_batch_under_lease(self.lease)
            if standby_or_rows is None:
                return 0  # another replica relays; stand by
            rows = standby_or_rows
        if not rows:
            OUTBOX_BACKLOG.labels(self.service).set(0)
            OUTBOX_OLDEST_AGE.labels(self.service).set(0)
            return 0
        for (topic, event_type), n in Counter((row.topic, row.event_type) for row in rows).items():
            EVENTS_PUBLISHED.labels(self.service, topic, event_type).inc(n)
        if len(rows) < self.batch_size:
            # Every unpublished row was in this batch, and all are sent: nothing was left
            # when it was read. Rows committed since are counted by the gauges' own timer
            # (refresh_gauges); a count here would be one more query per published event.
            OUTBOX_BACKLOG.labels(self.service).set(0)
            OUTBOX_OLDEST_AGE.labels(self.service).set(0)
        else:
            await self.refresh_backlog()
        return len(rows)

    async def _send_batch(self) -> Sequence[Row[Any]]:
        async with self.db.session() as session:
            rows = await self._unpublished(session)
        if rows and await self._broker_was_lost():
            async with self.db.session() as session:
                rows = await self._unpublished(session)
        if rows:
            await self._send(rows)
            async with self.db.transaction() as session:
                await self._mark_published(session, rows)
        return rows

    async def _send_batch_under_lease(self, lease: Lease) -> Sequence[Row[Any]] | None:
        async with self.db.transaction() as session:
            if not await lease.claim(session):
                return None
            rows = await self._unpublished(session)
            if rows and await self._broker_was_lost():
                rows = await self._unpublished(session)
            if rows:
                await self._send(rows)
                await self._mark_published(session, rows)
        return rows

    async def _broker_was_lost(self) -> bool:
        return self.broker_intact is not None and await self.broker_intact()

    async def _unpublished(self, session: AsyncSession) -> Sequence[Row[Any]]:
        return (await session.execute(self._unpublished_rows)).all()

    async def _send(self, rows: Sequence[Row[Any]]) -> None:
        acks = [
            await self.publish(
                row.topic, row.key.encode(), row.payload, wire_headers(row), row.partition
            )
            for row in rows
        ]
        await asyncio.gather(*acks)

    @staticmethod
    async def _mark_published(session: AsyncSession, rows: Sequence[Row[Any]]) -> None:
        params = {"seqs": [row.seq for row in rows], "now": utcnow()}
        await session.execute(_MARK_PUBLISHED, params)

    async def refresh_backlog(self) -> int:
        return await refresh_gauges(self.db, self.service)


async def refresh_gauges(db: Database, service: str) -> int:
    """Set the backlog and the oldest unpublished row's age from the database; return
    the backlog. Runs on its own timer too, so both rise while the broker is down."""
    async with db.session() as session:
        count, oldest = (
            await session.exec(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    col(OutboxMessage.published_at).is_(None)
                )
            )
        ).one()
    OUTBOX_BACKLOG.labels(service).set(count)
    age = (utcnow() - _aware(oldest)).total_seconds() if oldest is not None else 0.0
    OUTBOX_OLDEST_AGE.labels(service).set(max(0.0, age))
    return int(count)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def pending_count(db: Database) -> int:
    async with db.session() as session:
        result = await session.exec(
            select(func.count()).where(col(OutboxMessage.published_at).is_(None))
        )
        return int(result.one())


async def published_before(db: Database) -> bool:
    """Whether any kept row was ever published (so a broker without it has lost it)."""
    async with db.session() as session:
        result = await session.exec(
            select(OutboxMessage.seq).where(col(OutboxMessage.published_at).is_not(None)).limit(1)
        )
        return result.first() is not None


async def replay(db: Database, since: datetime, topics: Sequence[str] | None = None) -> int:
    """Mark kept rows created since `since` for publishing again; return how many.

    The relay then re-publishes them in their original order.
    """
    async with db.transaction() as session:
        statement = (
            update(OutboxMessage)
            .where(col(OutboxMessage.created_at) >= since)
            .where(col(OutboxMessage.published_at).is_not(None))
            .values(published_at=None)
        )
        if topics:
            statement = statement.where(col(OutboxMessage.topic).in_(list(topics)))
        result = await session.exec(statement)
    outbox_signal.wake_relay()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def prune(db: Database, retention: timedelta) -> int:
    """Delete published rows older than the retention window."""
    cutoff = utcnow() - retention
    async with db.transaction() as session:
        result = await session.exec(
            delete(OutboxMessage)
            .where(col(OutboxMessage.published_at).is_not(None))
            .where(col(OutboxMessage.created_at) < cutoff)
        )
    return int(result.rowcount)


async def prune_inbox(db: Database, retention: timedelta) -> int:
    """Delete inbox entries applied longer ago than the retention window.

    Safe only if no event older than that can arrive again: the retention must be longer
    than every producer's outbox retention (its replay window), see ServiceSettings.
    """
    cutoff = utcnow() - retention
    async with db.transaction() as session:
        result = await session.exec(delete(InboxEntry).where(col(InboxEntry.applied_at) < cutoff))
    return int(result.rowcount)
