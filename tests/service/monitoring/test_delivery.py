"""Outbound delivery: email through SMTP and a webhook, retried, never blocking alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from dps import processes
from services.monitoring.delivery.alerts import deliver_due
from services.monitoring.models import Delivery
from services.monitoring.settings import MonitoringSettings
from shared.contracts import providers_v1
from shared.infra_models import utcnow
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring
from tests.service.monitoring.smtp import smtp_server


async def deliveries(monitoring: Monitoring) -> dict[str, Delivery]:
    async with monitoring.runtime.db.session() as session:
        return {d.channel: d for d in (await session.exec(select(Delivery))).all()}


async def test_an_alert_queues_the_rows_the_orm_would_have_written(monitoring: Monitoring) -> None:
    """The deliveries are written at commit as plain rows, not ORM objects: the same
    columns as `Delivery(alert_id=..., channel=...)`, one per channel."""
    before = utcnow()
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
    [alert] = await monitoring.alerts()
    queued = await deliveries(monitoring)
    assert sorted(queued) == ["email", "webhook"]
    times = {"id", "next_attempt_at", "created_at"}
    for channel, row in queued.items():
        expected = Delivery(alert_id=alert.alert_id, channel=channel)
        assert row.model_dump(exclude=times) == expected.model_dump(exclude=times)
        assert row.id is not None
        assert before <= row.created_at.replace(tzinfo=before.tzinfo) <= utcnow()
        assert row.next_attempt_at == row.created_at


async def test_alert_email_reaches_the_smtp_server(monitoring: Monitoring) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
    [alert] = await monitoring.alerts()
    with smtp_server() as (port, inbox):
        settings = MonitoringSettings(
            smtp_host="127.0.0.1", smtp_port=port, smtp_to="officers@council.example"
        )
        await deliver_due(monitoring.runtime, settings)
    [message] = inbox.messages
    assert message["To"] == "officers@council.example"
    assert message["Subject"] == "[DPS critical] Ofsted judgement inadequate"
    assert alert.alert_id in message.get_payload()
    sent = await deliveries(monitoring)
    assert sent["email"].status == "sent" and sent["email"].sent_at is not None
    assert sent["webhook"].status == "skipped"  # no webhook configured


async def test_failed_delivery_is_retried_with_backoff_then_gives_up(
    monitoring: Monitoring,
) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
    dead_port = processes.free_port()  # nothing listens here
    settings = MonitoringSettings(
        smtp_host="127.0.0.1",
        smtp_port=dead_port,
        smtp_to="officers@council.example",
        webhook_url=f"http://127.0.0.1:{dead_port}/hook",
        delivery_max_attempts=2,
        delivery_backoff_s=30,
    )
    await deliver_due(monitoring.runtime, settings)
    first = await deliveries(monitoring)
    for delivery in first.values():
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.next_attempt_at > utcnow() + timedelta(seconds=20)
        assert delivery.last_error
    assert await deliver_due(monitoring.runtime, settings) == 0  # not due yet

    async with monitoring.runtime.db.transaction() as session:
        for delivery in (await session.exec(select(Delivery))).all():
            delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
            session.add(delivery)
    await deliver_due(monitoring.runtime, settings)
    assert {d.status for d in (await deliveries(monitoring)).values()} == {"failed"}
    # The alert itself was never held back by delivery.
    assert len(await monitoring.alerts()) == 1


@pytest.mark.parametrize("status_code", [200, 503])
async def test_webhook_posts_the_alert(
    monitoring: Monitoring, status_code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    received: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        received.append(json.loads(request.content))
        return httpx.Response(status_code)

    real_client = httpx.AsyncClient

    def mocked(**kwargs: object) -> httpx.AsyncClient:
        return real_client(transport=httpx.MockTransport(handler))

    monkeypatch.setattr(httpx, "AsyncClient", mocked)
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
    settings = MonitoringSettings(webhook_url="http://officers.example/hook")
    await deliver_due(monitoring.runtime, settings)
    assert received and received[0]["rule_id"] == "ofsted-inadequate"
    webhook = (await deliveries(monitoring))["webhook"]
    expected = ("sent", 0) if status_code == 200 else ("pending", 1)
    assert (webhook.status, webhook.attempts) == expected
