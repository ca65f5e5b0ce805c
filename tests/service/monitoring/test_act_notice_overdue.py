"""An overdue Procurement Act 2023 notice, as procurement publishes it, reaches a
monitoring officer through the same notice-overdue rule as a PCR 2015 one: one alert per
notice on its scheme, whose cause names the notice; the seeded rule cites the Act."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.monitoring import domain
from shared.contracts import procurement_v1
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _overdue(kind: str, notice_id: str) -> Any:
    payload = procurement_v1.NoticeOverdue(
        notice_id=notice_id,
        kind=kind,  # type: ignore[arg-type]
        scheme_id="dm-1",
        competition_id="c-1",
        due_on=date(2026, 5, 30),
        rule="Procurement Act 2023 s.53(1): a contract details notice within 30 days",
        detected_at=NOW,
    )
    return events.envelope(procurement_v1.TOPIC, payload.TYPE, payload.subject(), payload)


async def test_an_overdue_act_notice_raises_one_notice_overdue_alert(
    monitoring: Monitoring,
) -> None:
    await monitoring.feed(
        procurement_v1.TOPIC, _overdue("contract_details", "contract-details-c-1")
    )
    await monitoring.feed(
        procurement_v1.TOPIC, _overdue("contract_details", "contract-details-c-1")
    )
    await monitoring.feed(
        procurement_v1.TOPIC, _overdue("dynamic_market_cessation", "dynamic-market-cessation-dm-1")
    )
    alerts = await monitoring.alerts()
    assert sorted(a.cause for a in alerts) == [
        "notice:contract-details-c-1",
        "notice:dynamic-market-cessation-dm-1",
    ]
    assert {(a.rule_id, a.severity, a.target, a.target_id) for a in alerts} == {
        ("notice-overdue", "warning", "scheme", "dm-1")
    }
    (rule,) = [r for r in domain.DEFAULT_RULES if r.rule_id == "notice-overdue"]
    assert rule.source is not None and "Procurement Act 2023" in rule.source
