"""An `inadequate` inspection event over the real broker becomes an open critical alert,
published on quality.v1, with an email reaching a local SMTP server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlmodel import select

from services.monitoring.models import AlertRow, Delivery
from shared.contracts import providers_v1
from tests.harness import eventually, make_runtime
from tests.service.monitoring import events
from tests.service.monitoring.smtp import smtp_server

pytestmark = pytest.mark.integration


async def test_inadequate_inspection_to_open_critical_alert_and_email(
    own_kafka: str,
    database_url: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with smtp_server() as (port, inbox):
        monkeypatch.setenv("DPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DPS_SMTP_PORT", str(port))
        monkeypatch.setenv("DPS_SMTP_TO", "officers@council.example")
        monkeypatch.setenv("DPS_DELIVERY_POLL_S", "0.1")
        monkeypatch.delenv("DPS_WEBHOOK_URL", raising=False)
        runtime = make_runtime(
            "monitoring",
            database_url("monitoring"),
            tmp_path,
            kafka=own_kafka,
            consumer_group="g-monitoring-alert",
        )
        await runtime.start()
        try:
            event = events.inspection("p-int-1", "inadequate")
            producer = AIOKafkaProducer(bootstrap_servers=own_kafka, acks="all")
            await producer.start()
            await producer.send_and_wait(providers_v1.TOPIC, event.to_bytes(), key=event.key)
            await producer.send_and_wait(providers_v1.TOPIC, event.to_bytes(), key=event.key)
            await producer.stop()

            async def alerted() -> bool:
                async with runtime.db.session() as session:
                    rows = (await session.exec(select(AlertRow))).all()
                return any(r.provider_id == "p-int-1" for r in rows)

            await eventually(alerted)
            await eventually(lambda: _emailed(inbox))
            # The mail server has it; the delivery row is marked sent just after.
            await eventually(lambda: _delivery_sent(runtime))
            async with runtime.db.session() as session:
                [alert] = (
                    await session.exec(select(AlertRow).where(AlertRow.provider_id == "p-int-1"))
                ).all()
                email = (
                    await session.exec(select(Delivery).where(Delivery.channel == "email"))
                ).one()
            assert (alert.severity, alert.status, alert.rule_id) == (
                "critical",
                "open",
                "ofsted-inadequate",
            )
            assert email.status == "sent"
            [message] = inbox.messages
            assert "Ofsted judgement inadequate" in message["Subject"]
            assert alert.alert_id in message.get_payload()
            raised = await _raised_on_bus(own_kafka, alert.alert_id)
            assert raised["type"] == "quality.alert.raised"
            assert raised["data"]["severity"] == "critical"
        finally:
            await runtime.stop()


async def _emailed(inbox: object) -> bool:
    return len(getattr(inbox, "messages", [])) >= 1


async def _raised_on_bus(bootstrap: str, alert_id: str) -> dict[str, object]:
    consumer = AIOKafkaConsumer(
        "quality.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        for _ in range(20):
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    body = json.loads(record.value)
                    if body["subject"] == alert_id:
                        return dict(body)
        raise AssertionError(f"quality.alert.raised for {alert_id} not on the bus")
    finally:
        await consumer.stop()


async def _delivery_sent(runtime: Any) -> bool:
    async with runtime.db.session() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.channel == "email"))).all()
    return bool(rows) and all(r.status == "sent" for r in rows)
