"""Kafka subscribers of providers' e-mail notifications (issue 15): procurement events
that a provider's people may want to hear of. Each queues e-mails in the event's own
transaction (the consumer's inbox makes a redelivered event a no-op; the e-mail's unique
dedupe key backs that up), so every subscribed person gets one e-mail per event.
"""

from __future__ import annotations

from typing import Any

from services.monitoring import handlers, notifications
from services.monitoring.notification_commands import (
    bidders,
    cancel_reminders,
    competition_key,
    queue,
    record_bid,
    record_invitation,
    settings,
)
from shared.contracts import procurement_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import UnitOfWork


def _link(path: str) -> str:
    return notifications.portal_link(settings().console_base_url, path)


def _call_off_link(competition_id: str) -> str:
    return _link(f"/portal/call-offs/{competition_id}")


async def on_provider_invited(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ProviderInvited
) -> None:
    await record_invitation(uow, event.competition_id, event.provider_id, event.deadline_at)
    link = _call_off_link(event.competition_id)
    topic = competition_key(event.competition_id, event.provider_id)
    await queue(
        uow,
        event_id=envelope.id,
        provider_id=event.provider_id,
        kind="invitation",
        topic_key=topic,
        message=notifications.invitation(event.competition_id, event.deadline_at, link),
        due_at=event.invited_at,
    )
    # The reminder is queued now with its due time: the sender sends nothing before it
    # (on the business clock), a bid or the close cancels it. One durable row, no timer.
    remind_at = notifications.reminder_due_at(
        event.invited_at, event.deadline_at, settings().reminder_lead
    )
    if remind_at is not None:
        await queue(
            uow,
            event_id=envelope.id,
            provider_id=event.provider_id,
            kind="deadline",
            topic_key=topic,
            message=notifications.deadline_reminder(event.competition_id, event.deadline_at, link),
            due_at=remind_at,
            expires_at=event.deadline_at,
        )


async def on_bid_received(
    uow: UnitOfWork, _envelope: Envelope, event: procurement_v1.BidReceived
) -> None:
    await record_bid(uow, event.competition_id, event.provider_id)
    await cancel_reminders(uow, event.competition_id, event.provider_id)


async def on_competition_closed(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionClosed
) -> None:
    await handlers.on_competition_closed(uow, envelope, event)
    await cancel_reminders(uow, event.competition_id, None)


async def on_application_decided(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ApplicationDecided
) -> None:
    await queue(
        uow,
        event_id=envelope.id,
        provider_id=event.provider_id,
        kind="decision",
        topic_key=f"application:{event.application_id}",
        message=notifications.application_decided(
            event.application_id, _link("/portal#applications")
        ),
        due_at=event.decided_at,
    )


async def on_competition_awarded(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionAwarded
) -> None:
    """Every provider that bid hears that there is an outcome; only the portal says more
    (the winner's price and the ranking stay there, reg 55(3))."""
    link = _call_off_link(event.competition_id)
    for provider_id in sorted({*await bidders(uow, event.competition_id), event.provider_id}):
        await queue(
            uow,
            event_id=envelope.id,
            provider_id=provider_id,
            kind="award",
            topic_key=competition_key(event.competition_id, provider_id),
            message=notifications.award_outcome(
                event.competition_id, provider_id == event.provider_id, link
            ),
            due_at=event.approved_at,
        )


async def on_clarification_answered(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ClarificationAnswered
) -> None:
    """Every invited provider hears of every answer (equal treatment), never who asked."""
    link = _call_off_link(event.competition_id)
    for provider_id in sorted(set(event.invited_provider_ids)):
        await queue(
            uow,
            event_id=envelope.id,
            provider_id=provider_id,
            kind="clarification",
            topic_key=f"clarification:{event.clarification_id}:{provider_id}",
            message=notifications.clarification_answered(event.competition_id, link),
            due_at=event.answered_at,
            expires_at=event.deadline_at,
        )


def notification_subscriptions() -> dict[str, Any]:
    return {
        procurement_v1.ProviderInvited.TYPE: on_provider_invited,
        procurement_v1.BidReceived.TYPE: on_bid_received,
        procurement_v1.CompetitionClosed.TYPE: on_competition_closed,
        procurement_v1.ApplicationDecided.TYPE: on_application_decided,
        procurement_v1.CompetitionAwarded.TYPE: on_competition_awarded,
        procurement_v1.ClarificationAnswered.TYPE: on_clarification_answered,
    }


def subscriptions(runtime: ServiceRuntime) -> Subscriptions:
    """Monitoring's evidence subscribers plus these (competition.closed does both)."""
    found = handlers.subscriptions(runtime)
    found[procurement_v1.TOPIC] = {
        **found[procurement_v1.TOPIC],
        **notification_subscriptions(),
    }
    return found
