"""Statutory clocks run by procurement and placements reach a monitoring officer as alerts:
a notice not published when due, a self-declaration not renewed in time, a council review
date beyond 12 months, a phase-transfer call-off that cannot finish before the naming day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from shared.contracts import placements_v1, procurement_v1
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring

NOW = datetime(2026, 2, 1, 9, tzinfo=UTC)


def _procurement(model: type[procurement_v1.ProcurementEvent], **fields: Any) -> Any:
    payload = model.model_validate(fields)
    return events.envelope(procurement_v1.TOPIC, model.TYPE, payload.subject(), payload)


def _review(beyond: bool) -> Any:
    payload: BaseModel = placements_v1.PlacementReviewScheduled(
        placement_id="pl-1",
        review_id="r-1",
        child_ref="KCC-EHC-000123",
        provider_id="p-1",
        due_on=date(2027, 3, 1),
        statutory_latest=date(2027, 1, 31),
        beyond_statutory_limit=beyond,
    )
    return events.envelope(placements_v1.TOPIC, "placement.review.scheduled", "pl-1", payload)


CASES = [
    (
        procurement_v1.TOPIC,
        lambda: _procurement(
            procurement_v1.ApplicationOverdue,
            application_id="a-1",
            scheme_id="s-1",
            provider_id="p-1",
            evaluation_due_on=date(2026, 1, 30),
            detected_at=NOW,
            extended=False,
        ),
        ("application-decision-overdue", "warning", "provider", "p-1"),
    ),
    (
        procurement_v1.TOPIC,
        lambda: _procurement(
            procurement_v1.NoticeOverdue,
            notice_id="n-1",
            kind="award",
            scheme_id="s-1",
            competition_id="c-1",
            due_on=date(2026, 1, 30),
            rule="PCR 2015 reg 50",
            detected_at=NOW,
        ),
        ("notice-overdue", "warning", "scheme", "s-1"),
    ),
    (
        procurement_v1.TOPIC,
        lambda: _procurement(
            procurement_v1.SelfDeclarationOverdue,
            request_id="sd-1",
            scheme_id="s-1",
            provider_id="p-1",
            due_on=date(2026, 1, 30),
            detected_at=NOW,
        ),
        ("self-declaration-overdue", "warning", "provider", "p-1"),
    ),
    (
        procurement_v1.TOPIC,
        lambda: _procurement(
            procurement_v1.CompetitionDeadlineAtRisk,
            competition_id="need-n-1",
            scheme_id="s-1",
            need_ref="n-1",
            statutory_deadline=date(2026, 2, 15),
            expected_completion=date(2026, 2, 20),
            tender_deadline_at=NOW,
            reason="too late",
            detected_at=NOW,
        ),
        ("phase-transfer-deadline-at-risk", "critical", "placement", "n-1"),
    ),
    (
        placements_v1.TOPIC,
        lambda: _review(True),
        ("review-date-beyond-statutory-limit", "warning", "placement", "pl-1"),
    ),
]


@pytest.mark.parametrize(("topic", "make", "expected"), CASES, ids=[case[2][0] for case in CASES])
async def test_a_breached_statutory_clock_raises_its_alert(
    monitoring: Monitoring, topic: str, make: Any, expected: tuple[str, str, str, str]
) -> None:
    await monitoring.feed(topic, make())
    [alert] = await monitoring.alerts()
    assert (alert.rule_id, alert.severity, alert.target, alert.target_id) == expected


async def test_a_review_within_twelve_months_raises_nothing(monitoring: Monitoring) -> None:
    await monitoring.feed(placements_v1.TOPIC, _review(False))
    assert await monitoring.alerts() == []
