"""Sends the queued notification e-mails (notification_email rows): a background loop
beside the outbox relay, one SMTP message per row, retried with backoff, given up after
`delivery_max_attempts`. A row is claimed (lease) before it is sent, so two processes
never send it together; a crash after sending and before marking can send it once more
(SMTP has no idempotency), never lose it.

A row is due when its business time has come (the training clock, shared.clock: a
deadline reminder follows `dps clock advance` like every deadline) and its retry time
(the wall clock) has passed. At sending, the person's choice is read again: someone who
unsubscribed or changed address in between gets nothing, or gets it at the new address.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from services.monitoring.delivery import mailer
from services.monitoring.delivery.retry import backoff
from services.monitoring.models import NotificationEmail, NotificationSubscription
from services.monitoring.settings import MonitoringSettings
from shared import clock
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.runtime import ServiceRuntime

log = get_logger(__name__)
LEASE = timedelta(seconds=60)


def email_of(settings: MonitoringSettings, row: NotificationEmail, to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.mail_subject
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="send-dps")
    message["X-DPS-Notification"] = row.kind
    message.set_content(row.body)
    return message


async def _due(runtime: ServiceRuntime, limit: int) -> list[NotificationEmail]:
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(NotificationEmail)
            .where(
                NotificationEmail.status == "pending",
                col(NotificationEmail.due_at) <= clock.now(),
                col(NotificationEmail.next_attempt_at) <= utcnow(),
            )
            .order_by(col(NotificationEmail.id))
            .limit(limit)
        )
        return list(rows.all())


async def _claim(runtime: ServiceRuntime, row: NotificationEmail) -> bool:
    async with runtime.db.transaction() as session:
        result = await session.execute(
            update(NotificationEmail)
            .where(
                col(NotificationEmail.id) == row.id,
                col(NotificationEmail.status) == "pending",
                col(NotificationEmail.next_attempt_at) == row.next_attempt_at,
            )
            .values(next_attempt_at=utcnow() + LEASE)
        )
    return bool(getattr(result, "rowcount", 0))


async def _mark(runtime: ServiceRuntime, row: NotificationEmail, **values: Any) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            update(NotificationEmail).where(col(NotificationEmail.id) == row.id).values(**values)
        )


async def _address(runtime: ServiceRuntime, row: NotificationEmail) -> str | None:
    """Where to write now, or None: the person no longer wants this kind."""
    async with runtime.db.session() as session:
        person = await session.get(NotificationSubscription, row.subject)
    if person is None or row.kind not in person.kinds or not person.email:
        return None
    return person.email


async def send_due_notifications(
    runtime: ServiceRuntime, settings: MonitoringSettings, limit: int = 100
) -> int:
    """Send every due notification e-mail; returns how many were looked at."""
    rows = await _due(runtime, limit)
    for row in rows:
        if await _claim(runtime, row):
            await _attempt(runtime, settings, row)
    return len(rows)


async def _attempt(
    runtime: ServiceRuntime, settings: MonitoringSettings, row: NotificationEmail
) -> None:
    if row.expires_at is not None and row.expires_at <= clock.now():
        await _mark(runtime, row, status="skipped", last_error="deadline passed before sending")
        return
    to = await _address(runtime, row)
    if to is None or not settings.smtp_host:
        reason = "unsubscribed" if to is None else "SMTP not configured (DPS_SMTP_HOST)"
        await _mark(runtime, row, status="skipped", last_error=reason)
        return
    try:
        await mailer.send(settings, email_of(settings, row, to))
    except Exception as exc:
        attempts = row.attempts + 1
        failed = attempts >= settings.delivery_max_attempts
        log.warning("notification.send_failed", kind=row.kind, attempts=attempts, error=repr(exc))
        await _mark(
            runtime,
            row,
            attempts=attempts,
            last_error=repr(exc)[:1000],
            status="failed" if failed else "pending",
            next_attempt_at=utcnow() + backoff(settings, attempts),
        )
        return
    await _mark(runtime, row, status="sent", sent_to=to, sent_at=utcnow())
