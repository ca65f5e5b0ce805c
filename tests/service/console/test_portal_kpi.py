"""The provider portal's KPI returns against the real monitoring service in-process: the
returns a provider owes, sending one, and another provider's placement refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import select

from services.console.app import build_app
from services.monitoring.models import KpiReturnRow
from shared.contracts import placements_v1, providers_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime
from tests.harness import make_runtime
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import console_settings
from tests.service.console.test_portal import signed_in
from tests.service.monitoring import events


@pytest.fixture
async def monitoring(tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    broker = KafkaBroker()
    url = f"sqlite+aiosqlite:///{tmp_path / 'monitoring.db'}"
    runtime = make_runtime("monitoring", url, tmp_path, shared_broker=broker)
    async with TestKafkaBroker(broker):
        await runtime.start()
        feed: list[tuple[str, Envelope]] = [
            (providers_v1.TOPIC, events.registered("p-1")),
            (providers_v1.TOPIC, events.registered("p-2", urn=223456)),
            (placements_v1.TOPIC, events.contract_created("pl-1", "p-1")),
            (placements_v1.TOPIC, events.contract_created("pl-2", "p-2")),
        ]
        for topic, event in feed:
            await broker.publish(event.to_bytes(), topic, key=event.key)
        yield runtime
        await runtime.stop()


def console_over(monitoring: ServiceRuntime, tmp_path: Path) -> httpx.AsyncClient:
    settings = console_settings(tmp_path)
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "monitoring": httpx.ASGITransport(app=monitoring.build_app())
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def _returns(monitoring: ServiceRuntime) -> list[KpiReturnRow]:
    async with monitoring.db.session() as session:
        return list((await session.exec(select(KpiReturnRow))).all())


async def test_a_provider_sees_the_returns_it_owes_and_sends_one(
    monitoring: ServiceRuntime, tmp_path: Path
) -> None:
    async with console_over(monitoring, tmp_path) as client:
        await signed_in(client, "provider:p-1")
        shown = await client.get("/portal/kpi-returns")
        assert shown.status_code == 200, shown.text
        assert "pl-1" in shown.text and "pl-2" not in shown.text  # only its own placements
        assert ">Overdue<" in shown.text and ">Due<" in shown.text  # the term before, the open one
        owed = sorted(set(re.findall(r'value="(pl-1\|[^"]+)"', shown.text)))
        assert len(owed) == 2
        hidden = form_of(shown.text, "/portal/kpi-returns")

        empty = await client.post("/portal/kpi-returns", data=hidden)
        assert empty.status_code == 400
        for field in ("owed", "attendance_pct", "exclusions", "incidents", "progress"):
            assert f'href="#{field}"' in empty.text
        assert "There is a problem" in empty.text

        good = {
            "attendance_pct": "93.5",
            "exclusions": "0",
            "incidents": "1",
            "progress": "partly",
        }
        sent = await client.post(
            "/portal/kpi-returns",
            data={**form_of(empty.text, "/portal/kpi-returns"), "owed": owed[0], **good},
        )
        assert sent.status_code == 303 and sent.headers["location"].endswith("sent=1")
        [row] = await _returns(monitoring)
        assert (row.placement_id, row.term, row.provider_id) == ("pl-1", owed[0][5:], "p-1")
        after = (await client.get(sent.headers["location"])).text
        assert "Your KPI return was sent" in after and "Sent" in after

        # Another provider's placement swapped into the form: monitoring refuses it.
        stolen = await client.post(
            "/portal/kpi-returns",
            data={**form_of(after, "/portal/kpi-returns"), "owed": "pl-2|2026-summer", **good},
        )
        assert stolen.status_code == 403
        assert len(await _returns(monitoring)) == 1

    async with console_over(monitoring, tmp_path) as officer:
        await signed_in(officer, "monitoring_officer")
        assert (await officer.get("/portal/kpi-returns")).status_code == 403
