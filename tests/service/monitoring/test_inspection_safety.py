"""An inspection whose only finding is safeguarding not met: critical alert + suspension."""

from __future__ import annotations

from services.monitoring.models import ProviderProfile
from shared.contracts import providers_v1, quality_v1
from shared.envelope import Envelope, decode_envelope
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring


def safeguarding_only(provider_id: str, standards_met: bool | None = None) -> Envelope:
    payload = providers_v1.ProviderInspectionRecorded.model_validate(
        {
            "provider_id": provider_id,
            "urn": 123456,
            "name": "Oakfield School",
            "new": {
                "inspected_on": "2026-01-05",
                "safeguarding_met": False,
                "standards_met": standards_met,
            },
            "declined": True,
        }
    )
    return events.envelope(
        providers_v1.TOPIC, providers_v1.PROVIDER_INSPECTION_RECORDED, provider_id, payload
    )


async def test_safeguarding_not_met_alone_alerts_and_recommends_suspension(
    monitoring: Monitoring,
) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.registered("p-1"))
    await monitoring.feed(providers_v1.TOPIC, safeguarding_only("p-1"))

    [alert] = await monitoring.alerts()
    assert (alert.rule_id, alert.severity, alert.provider_id) == (
        "inspection-safeguarding-not-met",
        "critical",
        "p-1",
    )
    assert alert.escalation_deadline is not None
    [raised] = await monitoring.outbox("quality.alert.raised")
    assert decode_envelope(raised.payload).data["severity"] == "critical"
    [message] = await monitoring.outbox("quality.provider.suspension_recommended")
    assert message.topic == quality_v1.TOPIC
    recommendation = quality_v1.SuspensionRecommended.model_validate(
        decode_envelope(message.payload).data
    )
    assert recommendation.provider_id == "p-1"
    assert recommendation.alert_ids == [alert.alert_id]
    assert "safeguarding not met" in recommendation.reasons[0]
    async with monitoring.runtime.db.session() as session:
        profile = await session.get(ProviderProfile, "p-1")
    assert profile is not None and profile.ofsted_judgement == "inadequate"


async def test_standards_not_met_beside_a_good_grade_is_a_warning(monitoring: Monitoring) -> None:
    payload = providers_v1.ProviderInspectionRecorded.model_validate(
        {
            "provider_id": "p-2",
            "urn": 123457,
            "name": "Brookside School",
            "new": {"inspected_on": "2026-01-05", "overall": "good", "standards_met": False},
            "declined": True,
        }
    )
    event = events.envelope(
        providers_v1.TOPIC, providers_v1.PROVIDER_INSPECTION_RECORDED, "p-2", payload
    )
    await monitoring.feed(providers_v1.TOPIC, event)

    [alert] = await monitoring.alerts()
    assert (alert.rule_id, alert.severity) == ("independent-school-standards-not-met", "warning")
    assert await monitoring.outbox("quality.provider.suspension_recommended") == []


async def test_a_provider_registered_with_failed_standards_alerts(monitoring: Monitoring) -> None:
    snapshot = events.snapshot("p-3") | {
        "latest_inspection": {"inspected_on": "2025-06-01", "standards_met": False}
    }
    payload = providers_v1.ProviderRegistered.model_validate(
        {"provider": snapshot, "registered_by": "gias import"}
    )
    event = events.envelope(providers_v1.TOPIC, providers_v1.PROVIDER_REGISTERED, "p-3", payload)
    await monitoring.feed(providers_v1.TOPIC, event)

    alerts = {(a.rule_id, a.severity) for a in await monitoring.alerts()}
    assert ("independent-school-standards-not-met", "warning") in alerts
