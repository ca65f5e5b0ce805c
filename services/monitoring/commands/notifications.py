"""Use cases of providers' e-mail notifications: a person saves their choice, and an
event queues one e-mail per subscribed person. Queuing happens in the consumer's
transaction (with the inbox entry), sending later (delivery.notification_sender), so an e-mail is
queued exactly once per event and person and never blocks the consumer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from services.monitoring import store
from services.monitoring.delivery import notifications
from services.monitoring.models import InvitationFact, NotificationEmail, NotificationSubscription
from services.monitoring.settings import MonitoringSettings
from services.monitoring.store import find, pending, select_rows
from shared import clock
from shared.infra_models import utcnow
from shared.unit_of_work import Actor, UnitOfWork

# ------------------------------------------------------------------ preferences


def preferences_view(row: NotificationSubscription | None, actor: Actor) -> dict[str, Any]:
    """The person's choice plus the kinds on offer (the portal renders them as data)."""
    return {
        "subject": actor.id,
        "provider_id": actor.provider_id,
        "email": row.email if row else None,
        "kinds": list(row.kinds) if row else [],
        "available": [
            {"code": kind.code, "title": kind.title, "hint": kind.hint, "source": kind.source}
            for kind in notifications.KINDS
        ],
        "updated_at": row.updated_at.isoformat() if row else None,
    }


async def save_preferences(
    uow: UnitOfWork, actor: Actor, email: str | None, kinds: list[str]
) -> NotificationSubscription:
    """Replace the caller's own choice (the subject and provider come from the token)."""
    chosen = notifications.valid_preferences(email, kinds)
    provider_id = actor.provider_id or ""
    row = await uow.session.get(NotificationSubscription, actor.id)
    before = {"email": row.email, "kinds": list(row.kinds)} if row else None
    if row is None:
        row = NotificationSubscription(subject=actor.id, provider_id=provider_id)
    row.provider_id, row.email, row.kinds = provider_id, chosen.email, list(chosen.kinds)
    row.updated_at = utcnow()
    uow.session.add(row)
    late = await queue_open_reminders(uow, row) if "deadline" in row.kinds and row.email else 0
    # The address is the person's own data: the audit keeps that it changed, not what to.
    uow.audit(
        actor,
        "notification_preferences.saved",
        "notification_subscription",
        actor.id,
        kinds=list(chosen.kinds),
        email_changed=before is None or before["email"] != chosen.email,
        reminders_queued=late,
    )
    return row


async def queue_open_reminders(uow: UnitOfWork, person: NotificationSubscription) -> int:
    """A person who chooses deadline reminders after its provider was invited would
    otherwise hear nothing of that call-off (the invitation's reminders were queued for
    the subscribers of that moment). Queue one for each invitation still open: not bid,
    deadline ahead on the business clock. Idempotent: a call-off for which this person
    has any deadline e-mail already (pending, sent or cancelled) gets none again."""
    now = clock.now()
    facts = await select_rows(
        uow,
        select(InvitationFact).where(
            InvitationFact.provider_id == person.provider_id,
            ~col(InvitationFact.bid),
            col(InvitationFact.deadline_at) > now,
        ),
    )
    if not facts:
        return 0
    topics = {competition_key(f.competition_id, f.provider_id): f for f in facts}
    had = await select_rows(
        uow,
        select(NotificationEmail).where(
            NotificationEmail.subject == person.subject,
            NotificationEmail.kind == "deadline",
            col(NotificationEmail.topic_key).in_(list(topics)),
        ),
    )
    added = 0
    for topic, fact in sorted(topics.items()):
        if topic in {row.topic_key for row in had}:
            continue
        link = notifications.portal_link(
            settings().console_base_url, f"/portal/call-offs/{fact.competition_id}"
        )
        message = notifications.deadline_reminder(fact.competition_id, fact.deadline_at, link)
        uow.session.add(
            NotificationEmail(
                # One per person and call-off: a second save finds it (and so would a race,
                # on the unique key).
                dedupe_key=f"late:{fact.competition_id}:deadline:{person.subject}",
                subject=person.subject,
                provider_id=person.provider_id,
                kind="deadline",
                topic_key=topic,
                mail_subject=message.subject,
                body=message.body,
                # `lead` before the deadline, or now when that moment has passed already.
                due_at=max(fact.deadline_at - settings().reminder_lead, now),
                expires_at=fact.deadline_at,
            )
        )
        added += 1
    return added


# ------------------------------------------------------------------ queuing


async def queue(
    uow: UnitOfWork,
    *,
    event_id: str,
    provider_id: str,
    kind: str,
    topic_key: str,
    message: notifications.Message,
    due_at: datetime,
    expires_at: datetime | None = None,
) -> int:
    """One e-mail per person of `provider_id` who chose `kind`; nothing twice for the same
    event (the unique dedupe key backs this up when two consumers race)."""
    people = await store.subscribers(uow, provider_id, kind)
    keys = {person.subject: f"{event_id}:{kind}:{person.subject}" for person in people}
    known = await store.queued_keys(uow, list(keys.values())) if keys else set()
    added = 0
    for person in people:
        if keys[person.subject] in known:
            continue
        uow.session.add(
            NotificationEmail(
                dedupe_key=keys[person.subject],
                subject=person.subject,
                provider_id=provider_id,
                kind=kind,
                topic_key=topic_key,
                mail_subject=message.subject,
                body=message.body,
                due_at=due_at,
                expires_at=expires_at,
            )
        )
        added += 1
    return added


def competition_key(competition_id: str, provider_id: str) -> str:
    return f"competition:{competition_id}:{provider_id}"


async def cancel_reminders(uow: UnitOfWork, competition_id: str, provider_id: str | None) -> None:
    """The provider bid (provider_id) or bidding closed (None): pending deadline reminders
    of that provider (or of every provider) in the call-off are moot."""
    prefix = f"competition:{competition_id}:"
    exact = competition_key(competition_id, provider_id) if provider_id else None

    def wanted(topic_key: str) -> bool:
        return topic_key == exact if exact else topic_key.startswith(prefix)

    topic = col(NotificationEmail.topic_key)
    query = select(NotificationEmail).where(
        NotificationEmail.kind == "deadline",
        NotificationEmail.status == "pending",
        topic == exact if exact else topic.startswith(prefix),
    )
    fresh = [r for r in pending(uow, NotificationEmail) if r.kind == "deadline"]
    for row in [r for r in fresh if wanted(r.topic_key)] + await select_rows(uow, query):
        row.status = "cancelled"
        uow.session.add(row)


async def record_invitation(
    uow: UnitOfWork, competition_id: str, provider_id: str, deadline_at: datetime
) -> None:
    fact = await find(uow, InvitationFact, competition_id, provider_id)
    if fact is None:
        fact = InvitationFact(
            competition_id=competition_id, provider_id=provider_id, deadline_at=deadline_at
        )
    fact.deadline_at = deadline_at
    uow.session.add(fact)


async def record_bid(uow: UnitOfWork, competition_id: str, provider_id: str) -> None:
    fact = await find(uow, InvitationFact, competition_id, provider_id)
    if fact is not None:
        fact.bid = True
        uow.session.add(fact)


def settings() -> MonitoringSettings:
    return MonitoringSettings()
