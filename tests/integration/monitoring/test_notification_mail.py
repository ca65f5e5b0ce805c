"""A call-off invitation over the real broker becomes one e-mail, sent by monitoring's
sender loop to the embedded stack's real mail server (dps.mailserver, aiosmtpd, run as
`dps up` runs it) and kept as a 0600 .eml file in the data folder, even though the
event was delivered twice."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import select

from dps import processes
from dps.mailserver import kept, mail_dir
from services.monitoring.models import NotificationEmail
from shared.auth import issue_token
from shared.contracts import procurement_v1
from shared.contracts.common import Role
from tests.conftest import TEST_SECRET
from tests.harness import client_for, eventually, make_runtime
from tests.service.monitoring.events import envelope

pytestmark = pytest.mark.integration


async def test_invitation_reaches_the_stacks_mail_server_once(
    own_kafka: str,
    database_url: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = processes.free_port()
    server = processes.mail_server(port, tmp_path, tmp_path / "logs")
    server.start()
    try:
        processes.wait_for_port(server, port, timeout=20)
        monkeypatch.setenv("DPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DPS_SMTP_PORT", str(port))
        monkeypatch.setenv("DPS_CONSOLE_BASE_URL", "http://127.0.0.1:8000")
        monkeypatch.setenv("DPS_DELIVERY_POLL_S", "0.1")
        runtime = make_runtime(
            "monitoring",
            database_url("monitoring"),
            tmp_path,
            kafka=own_kafka,
            consumer_group="g-monitoring-notify",
        )
        await runtime.start()
        try:
            token = issue_token(TEST_SECRET, Role.PROVIDER, subject="ann", provider_id="p-n1")
            async with client_for(runtime, token) as client:
                saved = await client.put(
                    "/notification-preferences/mine",
                    json={"email": "ann@oakfield.example", "kinds": ["invitation"]},
                )
            assert saved.status_code == 200, saved.text
            now = datetime.now(UTC)
            payload = procurement_v1.ProviderInvited(
                competition_id="c-n1",
                scheme_id="s-1",
                provider_id="p-n1",
                round=1,
                reason="initial",
                invited_at=now,
                deadline_at=now + timedelta(days=3),
            )
            event = envelope(procurement_v1.TOPIC, payload.TYPE, "c-n1", payload)
            producer = AIOKafkaProducer(bootstrap_servers=own_kafka, acks="all")
            await producer.start()
            for _ in range(2):  # delivered twice
                await producer.send_and_wait(procurement_v1.TOPIC, event.to_bytes(), key=event.key)
            await producer.stop()

            async def sent() -> bool:
                async with runtime.db.session() as session:
                    rows = (await session.exec(select(NotificationEmail))).all()
                return bool(rows) and all(r.status == "sent" for r in rows)

            await eventually(sent)
            [mail] = kept(mail_dir(tmp_path))
            assert mail.to == "ann@oakfield.example"
            assert mail.subject == "Invitation to bid: call-off c-n1"
            assert stat.S_IMODE(mail.path.stat().st_mode) == 0o600
            text = mail.path.read_text()
            assert "http://127.0.0.1:8000/portal/call-offs/c-n1" in text
        finally:
            await runtime.stop()
    finally:
        server.stop()
