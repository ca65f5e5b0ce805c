"""The document-expiry sweep activity: documents expired or expiring within 30 days are
announced once per provider, kind and expiry date, however often the sweep runs."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from services.provider_registry.activities import sweep_document_expiry
from shared.envelope import decode_envelope
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from tests.service.provider_registry.conftest import register

TODAY = date(2026, 3, 1)


def documents(insurance: str, safeguarding: str, financial: str) -> list[dict[str, str]]:
    return [
        {"kind": "insurance", "expires_on": insurance},
        {"kind": "safeguarding_policy", "expires_on": safeguarding},
        {"kind": "financial_check", "expires_on": financial},
    ]


async def expiring(runtime: ServiceRuntime) -> list[dict[str, object]]:
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.event_type == "provider.document_expiring")
        )
        return [decode_envelope(row.payload).data for row in rows.all()]


async def test_sweep_announces_each_document_once(registry, commissioner) -> None:
    soon = await register(
        commissioner, urn=500001, documents=documents("2026-03-20", "2026-02-01", "2027-01-01")
    )
    await register(
        commissioner, urn=500002, documents=documents("2027-01-01", "2027-01-01", "2027-01-01")
    )
    result = await sweep_document_expiry(registry.db, registry.source, TODAY)
    assert (result.providers_checked, result.notices_sent) == (1, 2)
    events = await expiring(registry)
    assert sorted((e["kind"], e["expired"], e["days_until_expiry"]) for e in events) == [
        ("insurance", False, 19),
        ("safeguarding_policy", True, -28),
    ]
    assert {e["provider_id"] for e in events} == {soon}

    again = await sweep_document_expiry(registry.db, registry.source, date(2026, 3, 2))
    assert again.notices_sent == 0
    assert len(await expiring(registry)) == 2


async def test_renewed_document_is_announced_again_when_it_nears_expiry(
    registry, commissioner
) -> None:
    provider_id = await register(
        commissioner, urn=500003, documents=documents("2026-03-10", "2027-01-01", "2027-01-01")
    )
    await sweep_document_expiry(registry.db, registry.source, TODAY)
    renewed = documents("2027-03-10", "2027-01-01", "2027-01-01")  # insurance renewed
    response = await commissioner.patch(f"/providers/{provider_id}", json={"documents": renewed})
    assert response.status_code == 200
    assert (await sweep_document_expiry(registry.db, registry.source, TODAY)).notices_sent == 0
    later = await sweep_document_expiry(registry.db, registry.source, date(2027, 2, 20))
    assert later.notices_sent == 3  # the renewed insurance, and two now expired
    events = await expiring(registry)
    assert sorted(str(e["expires_on"]) for e in events if e["kind"] == "insurance") == [
        "2026-03-10",
        "2027-03-10",
    ]
