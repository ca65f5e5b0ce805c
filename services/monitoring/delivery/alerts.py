"""Delivery of alerts to monitoring officers: one `Delivery` row per channel (SMTP e-mail,
webhook), sent by a background loop, retried with backoff, given up after
`delivery_max_attempts`; a channel that is not configured is marked skipped."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col, select

from services.monitoring import events, store
from services.monitoring.delivery import mailer
from services.monitoring.delivery.retry import backoff
from services.monitoring.models import AlertRow, Delivery
from services.monitoring.settings import MonitoringSettings
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.runtime import ServiceRuntime

log = get_logger(__name__)


def _email(settings: MonitoringSettings, row: AlertRow, purpose: str) -> EmailMessage:
    message = EmailMessage()
    prefix = "ESCALATED " if purpose == "escalated" else ""
    message["Subject"] = f"[DPS {row.severity}] {prefix}{row.title}"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.recipients)
    # Only references, never incident summaries: email leaves the council's systems.
    message.set_content(
        "\n".join(
            [
                f"Alert {row.alert_id} ({row.severity}): {row.title}",
                f"Target: {row.target} {row.target_id}",
                f"Provider: {row.provider_id or '-'}",
                f"Cause: {row.cause}",
                f"Raised at: {row.raised_at.isoformat()}",
                f"Status: {row.status}",
                "Work it in the monitoring inbox: GET /alerts/" + row.alert_id,
            ]
        )
    )
    return message


async def _deliver(settings: MonitoringSettings, delivery: Delivery, row: AlertRow) -> None:
    """Send one delivery on its (configured) channel; raises if it did not go."""
    if delivery.channel == "email":
        await mailer.send(settings, _email(settings, row, delivery.purpose))
        return
    body = events.alert_raised(store.alert_of(row)).model_dump(mode="json") | {
        "purpose": delivery.purpose,
        "status": row.status,
    }
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_s) as client:
        response = await client.post(settings.webhook_url, json=body)
        response.raise_for_status()


async def _claim(runtime: ServiceRuntime, delivery: Delivery, lease: timedelta) -> bool:
    """Take a delivery for `lease` so another process does not send it at the same time."""
    async with runtime.db.transaction() as session:
        result = await session.execute(
            update(Delivery)
            .where(
                col(Delivery.id) == delivery.id,
                col(Delivery.status) == "pending",
                col(Delivery.next_attempt_at) == delivery.next_attempt_at,
            )
            .values(next_attempt_at=utcnow() + lease)
        )
    return bool(getattr(result, "rowcount", 0))


def _configured(settings: MonitoringSettings, channel: str) -> bool:
    if channel == "email":
        return bool(settings.smtp_host and settings.recipients)
    return bool(settings.webhook_url)


async def deliver_due(
    runtime: ServiceRuntime, settings: MonitoringSettings, limit: int = 200
) -> int:
    """Send every delivery that is due; returns how many were attempted."""
    now = utcnow()
    async with runtime.db.session() as session:
        due = (
            await session.exec(
                select(Delivery)
                .where(Delivery.status == "pending", col(Delivery.next_attempt_at) <= now)
                .order_by(col(Delivery.id))
                .limit(limit)
            )
        ).all()
    unconfigured = [d.id for d in due if not _configured(settings, d.channel)]
    if unconfigured:
        # One write for all of them: on SQLite every extra write transaction queues
        # behind the consumer's and the relay's.
        async with runtime.db.transaction() as session:
            await session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(unconfigured), col(Delivery.status) == "pending")
                .values(status="skipped")
            )
    for delivery in due:
        if _configured(settings, delivery.channel) and await _claim(
            runtime, delivery, timedelta(seconds=60)
        ):
            await _attempt(runtime, settings, delivery)
    return len(due)


async def _attempt(
    runtime: ServiceRuntime, settings: MonitoringSettings, delivery: Delivery
) -> None:
    async with runtime.db.session() as session:
        row = await session.get(AlertRow, delivery.alert_id)
    values: dict[str, Any]
    try:
        if row is not None:
            await _deliver(settings, delivery, row)
        values = {"status": "sent" if row is not None else "skipped", "sent_at": utcnow()}
    except Exception as exc:
        attempts = delivery.attempts + 1
        failed = attempts >= settings.delivery_max_attempts
        log.warning("delivery.failed", channel=delivery.channel, attempts=attempts, error=repr(exc))
        values = {
            "attempts": attempts,
            "last_error": repr(exc)[:1000],
            "status": "failed" if failed else "pending",
            "next_attempt_at": utcnow() + backoff(settings, attempts),
        }
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Delivery).where(col(Delivery.id) == delivery.id).values(**values)
        )
