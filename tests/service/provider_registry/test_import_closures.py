"""`dps providers import`: a closed establishment closes the provider, one proposed to
close is suspended, each through the register's normal status changes (issue 12)."""

from __future__ import annotations

from datetime import date

import httpx
from sqlmodel import select

from services.provider_registry import gias
from services.provider_registry.cli import import_extract
from services.provider_registry.models import ProviderRow, StatusChangeRow
from shared.contracts import providers_v1
from shared.envelope import decode_envelope
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor

TODAY = date(2025, 10, 1)
IMPORTER = Actor(id="cli:test", role="admin")
STATUS = "EstablishmentStatus (name)"


async def _rows_by_urn(registry: ServiceRuntime) -> dict[int, ProviderRow]:
    async with registry.db.session() as session:
        return {row.urn: row for row in (await session.exec(select(ProviderRow))).all()}


async def _status_events(registry: ServiceRuntime) -> list[providers_v1.ProviderStatusChanged]:
    async with registry.db.session() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.event_type == providers_v1.PROVIDER_STATUS_CHANGED
        )
        messages = (await session.exec(query)).all()
    return [
        providers_v1.ProviderStatusChanged.model_validate(decode_envelope(m.payload).data)
        for m in messages
    ]


async def test_closed_and_closing_establishments_leave_the_active_register(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    rows = gias.generate_extract(4, seed=21)
    await import_extract(gias.write_extract_csv(rows), registry.db, actor=IMPORTER, today=TODAY)
    known = await _rows_by_urn(registry)
    for row in rows[:3]:  # the first three are active members of the market
        provider_id = known[int(row["URN"])].id
        response = await commissioner.post(
            f"/providers/{provider_id}/status", json={"status": "active", "reason": "admitted"}
        )
        assert response.status_code == 200, response.text
    rows[0][STATUS] = "Closed"
    rows[1][STATUS] = "Open, but proposed to close"
    closed_elsewhere = dict(rows[3]) | {"URN": "999998", STATUS: "Closed"}  # never registered

    summary = await import_extract(
        gias.write_extract_csv([*rows, closed_elsewhere]), registry.db, actor=IMPORTER, today=TODAY
    )

    assert (summary.closed, summary.suspended) == (1, 1)
    assert [(r.line, r.urn) for r in summary.rejected] == [(6, "999998")]
    after = await _rows_by_urn(registry)
    statuses = [after[int(row["URN"])].status for row in rows]
    assert statuses == ["removed", "suspended", "active", "registered"]
    events = [
        (e.urn, e.previous_status, e.status, e.reason) for e in await _status_events(registry)
    ]
    closed_urn, closing_urn = int(rows[0]["URN"]), int(rows[1]["URN"])
    assert (closed_urn, "active", "suspended", "GIAS: establishment closed") in events
    assert (closed_urn, "suspended", "removed", "GIAS: establishment closed") in events
    assert (
        closing_urn,
        "active",
        "suspended",
        "GIAS: establishment open, but proposed to close",
    ) in events
    async with registry.db.session() as session:
        history = (await session.exec(select(StatusChangeRow))).all()
    assert len(history) == len(events) == 3 + 3  # three activations, three closing moves

    again = await import_extract(
        gias.write_extract_csv([*rows, closed_elsewhere]), registry.db, actor=IMPORTER, today=TODAY
    )
    assert (again.closed, again.suspended) == (0, 0)
    assert len(await _status_events(registry)) == 6  # nothing moves twice
