"""Events from other services become evidence and, under the rules, alerts: one per cause."""

from __future__ import annotations

from datetime import date

from services.monitoring.models import AlertRow, EvidenceRecord, ProviderProfile
from shared.contracts import placements_v1, providers_v1, quality_v1
from shared.envelope import decode_envelope
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring


async def test_inadequate_inspection_raises_one_critical_alert(monitoring: Monitoring) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.registered("p-1"))
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))

    alerts = await monitoring.alerts()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.rule_id, alert.severity, alert.status) == (
        "ofsted-inadequate",
        "critical",
        "open",
    )
    assert alert.provider_id == "p-1" and alert.escalation_deadline is not None
    raised = await monitoring.outbox("quality.alert.raised")
    assert len(raised) == 1 and raised[0].topic == quality_v1.TOPIC
    payload = quality_v1.AlertRaised.model_validate(decode_envelope(raised[0].payload).data)
    assert payload.alert_id == alert.alert_id and payload.severity is quality_v1.Severity.CRITICAL
    async with monitoring.runtime.db.session() as session:
        profile = await session.get(ProviderProfile, "p-1")
    assert profile is not None and profile.ofsted_judgement == "inadequate"


async def test_same_cause_raises_one_alert_across_redelivery(monitoring: Monitoring) -> None:
    event = events.inspection("p-1", "inadequate")
    await monitoring.feed(providers_v1.TOPIC, event)
    await monitoring.feed(providers_v1.TOPIC, event)  # redelivery: the inbox drops it
    # The same inspection reported again under a new event id: same cause, same alert.
    again = events.inspection("p-1", "inadequate")
    await monitoring.feed(providers_v1.TOPIC, again)

    alerts = await monitoring.alerts()
    assert len(alerts) == 1
    assert alerts[0].evidence_refs == [event.id, again.id]
    assert len(await monitoring.outbox("quality.alert.raised")) == 1


async def test_requires_improvement_is_a_warning_and_good_raises_nothing(
    monitoring: Monitoring,
) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "good"))
    assert await monitoring.alerts() == []
    await monitoring.feed(
        providers_v1.TOPIC,
        events.inspection("p-1", "requires_improvement", inspected_on=date(2026, 2, 1)),
    )
    [alert] = await monitoring.alerts()
    assert (alert.rule_id, alert.severity) == ("ofsted-requires-improvement", "warning")


async def test_back_filled_inspection_is_kept_but_raises_nothing(monitoring: Monitoring) -> None:
    await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", is_latest=False))
    assert await monitoring.alerts() == []
    assert await monitoring.count(EvidenceRecord) == 1


async def test_placement_and_document_events_raise_their_rules(monitoring: Monitoring) -> None:
    await monitoring.feed(placements_v1.TOPIC, events.contract_created("pl-1", "p-1"))
    await monitoring.feed(placements_v1.TOPIC, events.review_overdue("pl-1", "p-1"))
    await monitoring.feed(placements_v1.TOPIC, events.uplift_requested("pl-1", "p-1", "6.5", "3.0"))
    await monitoring.feed(
        placements_v1.TOPIC, events.uplift_requested("pl-1", "p-1", "2.0", "3.0")
    )  # within the cap: no alert
    await monitoring.feed(providers_v1.TOPIC, events.document_expiring("p-1", days=-3))
    await monitoring.feed(providers_v1.TOPIC, events.document_expiring("p-1", days=20))

    rules = sorted(a.rule_id for a in await monitoring.alerts())
    assert rules == ["document-expired", "review-overdue", "uplift-above-cap"]
    assert await monitoring.count(AlertRow, AlertRow.severity == "critical") == 0


async def test_same_cause_raises_one_alert_across_restarts(
    database_url, tmp_path, monkeypatch
) -> None:
    from faststream.kafka import KafkaBroker, TestKafkaBroker

    from tests.harness import make_runtime

    monkeypatch.setenv("DPS_DELIVERY_POLL_S", "3600")
    url = database_url("monitoring")
    event = events.inspection("p-1", "inadequate")
    for attempt in range(2):  # the second process sees the same event again, then a copy
        broker = KafkaBroker()
        runtime = make_runtime("monitoring", url, tmp_path, shared_broker=broker)
        async with TestKafkaBroker(broker):
            await runtime.start()
            monitoring = Monitoring(runtime, broker)
            await monitoring.feed(providers_v1.TOPIC, event)
            if attempt:
                await monitoring.feed(providers_v1.TOPIC, events.inspection("p-1", "inadequate"))
            alerts = await monitoring.alerts()
            raised = await monitoring.outbox("quality.alert.raised")
            await runtime.stop()
        assert len(alerts) == 1 and len(raised) == 1
