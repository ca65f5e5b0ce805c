"""The outbox relay: publishes committed events to Kafka (acks=all) and marks them sent.

Rows are kept for a retention window after publishing so that `replay` can re-publish
them when the broker has lost its data; consumers' inboxes make the repeat harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, delete, select

from shared import outbox_signal
from shared.db import Database
from shared.envelope import STRUCTURED_CONTENT_TYPE
from shared.infra_models import OutboxMessage, utcnow
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG

log = get_logger(__name__)


# Sends one record (topic, key, value, headers, partition or None for the key's
# partition) and returns an awaitable that resolves once the broker has it, so a batch is
# pipelined rather than sent one round trip at a time.
Publisher = Callable[[str, bytes, bytes, dict[str, str], int | None], Awaitable[Awaitable[Any]]]

# Before the CloudEvents binding was followed, rows were stored with these headers and
# no content type; published as they are, a binding receiver would read them as binary
# mode and fail. They are sent with the structured mode's headers instead.
_LEGACY_HEADERS = {"ce_type", "ce_id", "correlation_id"}


def wire_headers(row: OutboxMessage) -> dict[str, str]:
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
    ) -> None:
        self.db = db
        self.publish = publish
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()

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
        """Publish one batch of unpublished rows in outbox order; return how many."""
        async with self.db.session() as session:
            rows: Sequence[OutboxMessage] = (
                await session.exec(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.published_at).is_(None))
                    .order_by(col(OutboxMessage.seq))
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            OUTBOX_BACKLOG.labels(self.service).set(0)
            return 0
        acks = [
            await self.publish(
                row.topic, row.key.encode(), row.payload, wire_headers(row), row.partition
            )
            for row in rows
        ]
        await asyncio.gather(*acks)
        await self._mark_published([row.seq for row in rows if row.seq is not None])
        for row in rows:
            EVENTS_PUBLISHED.labels(self.service, row.topic, row.event_type).inc()
        await self.refresh_backlog()
        return len(rows)

    async def _mark_published(self, seqs: list[int]) -> None:
        async with self.db.transaction() as session:
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.seq).in_(seqs))
                .values(published_at=utcnow(), attempts=OutboxMessage.attempts + 1)  # type: ignore[operator]
            )

    async def refresh_backlog(self) -> int:
        backlog = await pending_count(self.db)
        OUTBOX_BACKLOG.labels(self.service).set(backlog)
        return backlog


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
