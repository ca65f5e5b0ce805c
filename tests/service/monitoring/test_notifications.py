"""Providers' e-mail notifications (issue 15): a person's own choice, one e-mail per
event and person (also on redelivery), reminders before a bid deadline, no child's data
in any e-mail, and sending through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from dps import processes
from services.monitoring import handlers
from services.monitoring.delivery import notifications
from services.monitoring.delivery.notification_sender import send_due_notifications
from services.monitoring.models import NotificationEmail
from services.monitoring.settings import MonitoringSettings
from shared.auth import issue_token
from shared.contracts import procurement_v1
from shared.contracts.common import Role
from shared.envelope import Envelope
from shared.infra_models import AuditEntry
from shared.unit_of_work import unit_of_work
from tests.conftest import TEST_SECRET
from tests.harness import client_for
from tests.service.monitoring.conftest import Monitoring
from tests.service.monitoring.events import envelope
from tests.service.monitoring.smtp import smtp_server

NOW = datetime.now(UTC)
CHILD_REF = "KCC-EHC-000123"  # a need/child reference that must never reach an e-mail
BASE = "https://dps.council.example"


def person(subject: str, provider_id: str = "p-1") -> str:
    return issue_token(TEST_SECRET, Role.PROVIDER, subject=subject, provider_id=provider_id)


async def choose(
    monitoring: Monitoring, subject: str, provider_id: str, email: str, kinds: list[str]
) -> None:
    async with client_for(monitoring.runtime, person(subject, provider_id)) as client:
        response = await client.put(
            "/notification-preferences/mine", json={"email": email, "kinds": kinds}
        )
    assert response.status_code == 200, response.text


def invited(
    provider_id: str, competition_id: str = "c-1", deadline: timedelta = timedelta(days=5)
) -> Envelope:
    payload = procurement_v1.ProviderInvited(
        competition_id=competition_id,
        scheme_id="s-1",
        provider_id=provider_id,
        round=1,
        reason="initial",
        invited_at=NOW,
        deadline_at=NOW + deadline,
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, competition_id, payload)


def bid(provider_id: str, competition_id: str = "c-1") -> Envelope:
    payload = procurement_v1.BidReceived(
        competition_id=competition_id,
        scheme_id="s-1",
        bid_id=f"b-{provider_id}",
        provider_id=provider_id,
        round=1,
        version=1,
        submitted_at=NOW,
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, competition_id, payload)


def awarded(winner: str, competition_id: str = "c-1") -> Envelope:
    payload = procurement_v1.CompetitionAwarded(
        competition_id=competition_id,
        scheme_id="s-1",
        round=1,
        kind="individual",
        category_code="asd-day",
        bid_id=f"b-{winner}",
        provider_id=winner,
        places=1,
        need_ref=CHILD_REF,
        fee_basis="weekly",
        core_fee=Decimal("1234.56"),
        weekly_core_fee=Decimal("1234.56"),
        weeks_per_year=38,
        start_date=NOW.date(),
        annual_value=Decimal("46913.28"),
        contract_value=Decimal("140739.84"),
        price_score=Decimal("80"),
        quality_score=Decimal("70"),
        total_score=Decimal("75"),
        approved_by="commissioner-1",
        approved_at=NOW,
        notice_due_on=NOW.date(),
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, competition_id, payload)


def decided(provider_id: str) -> Envelope:
    payload = procurement_v1.ApplicationDecided(
        application_id="app-1",
        scheme_id="s-1",
        provider_id=provider_id,
        outcome="admitted",
        admitted_categories=["asd-day"],
        criteria=[],
        decided_by="commissioner-1",
        decided_at=NOW,
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, "app-1", payload)


async def queued(monitoring: Monitoring) -> list[NotificationEmail]:
    async with monitoring.runtime.db.session() as session:
        rows = await session.exec(select(NotificationEmail).order_by(col(NotificationEmail.id)))
        return list(rows.all())


@pytest.fixture(autouse=True)
def console_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPS_CONSOLE_BASE_URL", BASE)


# ------------------------------------------------------------------ preferences


async def test_a_person_reads_and_replaces_only_their_own_choice(monitoring: Monitoring) -> None:
    async with client_for(monitoring.runtime, person("ann")) as ann:
        empty = (await ann.get("/notification-preferences/mine")).json()
        assert (empty["email"], empty["kinds"], empty["provider_id"]) == (None, [], "p-1")
        assert [k["code"] for k in empty["available"]] == list(notifications.KIND_CODES)
        assert all(k["source"] for k in empty["available"])  # every kind says why
        saved = await ann.put(
            "/notification-preferences/mine",
            json={"email": " ann@oakfield.example ", "kinds": ["award", "invitation", "award"]},
        )
        assert saved.status_code == 200, saved.text
        # Table order, no repeats, address trimmed.
        assert saved.json()["kinds"] == ["invitation", "award"]
        assert saved.json()["email"] == "ann@oakfield.example"
    async with client_for(monitoring.runtime, person("bob", "p-2")) as bob:
        assert (await bob.get("/notification-preferences/mine")).json()["email"] is None
        # Nobody names another subject or provider: the body has no such fields.
        refused = await bob.put(
            "/notification-preferences/mine",
            json={"email": "x@y.example", "kinds": [], "provider_id": "p-1"},
        )
        assert refused.status_code == 422
    async with monitoring.runtime.db.session() as session:
        [audit] = (await session.exec(select(AuditEntry))).all()
    assert audit.action == "notification_preferences.saved" and audit.entity_id == "ann"
    assert "ann@oakfield.example" not in str(audit.details)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not-an-address", "kinds": ["award"]}, {"email"}),
        ({"email": "a@b.example\r\nBcc: x@y.example", "kinds": ["award"]}, {"email"}),
        ({"email": "a\u0000@b.example", "kinds": ["award"]}, {"email"}),
        ({"email": "a@b.example", "kinds": ["award\u0000"]}, {"kinds"}),
        ({"email": "a@b.example", "kinds": ["award", "gossip"]}, {"kinds"}),
        ({"email": "", "kinds": ["award"]}, {"email"}),
        ({"email": "bad", "kinds": ["nope"]}, {"email", "kinds"}),
    ],
)
async def test_bad_choices_are_refused_naming_field_and_rule(
    monitoring: Monitoring, body: dict[str, Any], fields: set[str]
) -> None:
    async with client_for(monitoring.runtime, person("ann")) as client:
        response = await client.put("/notification-preferences/mine", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert {e["field"] for e in errors} == fields and all(e["rule"] for e in errors)


async def test_no_kinds_and_no_address_means_no_emails(monitoring: Monitoring) -> None:
    async with client_for(monitoring.runtime, person("ann")) as client:
        response = await client.put("/notification-preferences/mine", json={"kinds": []})
    assert response.status_code == 200 and response.json()["kinds"] == []


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.MONITORING_OFFICER, Role.ADMIN])
async def test_only_providers_people_have_preferences(
    monitoring: Monitoring, tokens: dict[Role, str], role: Role
) -> None:
    async with client_for(monitoring.runtime, tokens[role]) as client:
        assert (await client.get("/notification-preferences/mine")).status_code == 403


# ------------------------------------------------------------------ queuing


async def test_one_email_per_event_and_person_also_on_redelivery(monitoring: Monitoring) -> None:
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["invitation"])
    await choose(monitoring, "cat", "p-1", "cat@oakfield.example", ["invitation", "award"])
    await choose(monitoring, "dan", "p-1", "dan@oakfield.example", ["award"])  # not chosen
    await choose(monitoring, "eve", "p-2", "eve@birch.example", ["invitation"])  # other org
    event = invited("p-1", deadline=timedelta(hours=12))  # too short for a reminder
    await monitoring.feed(procurement_v1.TOPIC, event)
    await monitoring.feed(procurement_v1.TOPIC, event)  # redelivered: the inbox skips it
    # Past the inbox too (its entry lost): the e-mail's dedupe key still holds.
    payload = procurement_v1.ProviderInvited.model_validate(event.data)
    async with unit_of_work(monitoring.runtime.db, "tests") as uow:
        await handlers.on_provider_invited(uow, event, payload)
    rows = await queued(monitoring)
    assert sorted(r.subject for r in rows) == ["ann", "cat"]
    assert {r.kind for r in rows} == {"invitation"}
    assert all(f"{BASE}/portal/call-offs/c-1" in r.body for r in rows)


async def test_a_deadline_reminder_waits_and_a_bid_cancels_it(monitoring: Monitoring) -> None:
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["deadline"])
    # p-10 begins with p-1: p-1's bid must not cancel p-10's reminder.
    await choose(monitoring, "eve", "p-10", "eve@birch.example", ["deadline"])
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1"))
    await monitoring.feed(procurement_v1.TOPIC, invited("p-10"))
    rows = {r.subject: r for r in await queued(monitoring)}
    lead = notifications.DEFAULT_REMINDER_LEAD
    assert rows["ann"].due_at == NOW + timedelta(days=5) - lead
    assert rows["ann"].expires_at == NOW + timedelta(days=5)
    await monitoring.feed(procurement_v1.TOPIC, bid("p-1"))
    rows = {r.subject: r for r in await queued(monitoring)}
    assert (rows["ann"].status, rows["eve"].status) == ("cancelled", "pending")
    with smtp_server() as (port, inbox):
        settings = MonitoringSettings(smtp_host="127.0.0.1", smtp_port=port)
        await send_due_notifications(monitoring.runtime, settings)
        assert inbox.messages == []  # not due yet (three days before the reminder)


async def test_award_tells_every_bidder_and_the_winner_that_it_won(monitoring: Monitoring) -> None:
    for subject, provider_id in (("ann", "p-1"), ("eve", "p-2"), ("fay", "p-3")):
        await choose(monitoring, subject, provider_id, f"{subject}@x.example", ["award"])
    for provider_id in ("p-1", "p-2", "p-3"):
        await monitoring.feed(procurement_v1.TOPIC, invited(provider_id))
    await monitoring.feed(procurement_v1.TOPIC, bid("p-1"))
    await monitoring.feed(procurement_v1.TOPIC, bid("p-2"))
    await monitoring.feed(procurement_v1.TOPIC, awarded("p-1"))
    rows = {r.subject: r for r in await queued(monitoring) if r.kind == "award"}
    assert sorted(rows) == ["ann", "eve"]  # p-3 did not bid
    assert "awarded to your organisation" in rows["ann"].body
    assert "awarded to your organisation" not in rows["eve"].body


async def test_a_clarification_answer_tells_every_invited_provider_once(
    monitoring: Monitoring,
) -> None:
    for subject, provider_id in (("ann", "p-1"), ("eve", "p-2"), ("fay", "p-3")):
        await choose(monitoring, subject, provider_id, f"{subject}@x.example", ["clarification"])
    await choose(monitoring, "gil", "p-1", "gil@x.example", ["award"])  # not chosen
    payload = procurement_v1.ClarificationAnswered(
        competition_id="c-1",
        scheme_id="s-1",
        clarification_id="q-1",
        round=1,
        invited_provider_ids=["p-1", "p-2"],
        answered_at=NOW,
        deadline_at=NOW + timedelta(days=3),
    )
    event = envelope(procurement_v1.TOPIC, payload.TYPE, "c-1", payload)
    await monitoring.feed(procurement_v1.TOPIC, event)
    async with unit_of_work(monitoring.runtime.db, "tests") as uow:  # past the inbox
        await handlers.on_clarification_answered(uow, event, payload)
    rows = await queued(monitoring)
    assert sorted(r.subject for r in rows) == ["ann", "eve"]  # p-3 was not invited
    assert {r.kind for r in rows} == {"clarification"}
    assert all(f"{BASE}/portal/call-offs/c-1" in r.body for r in rows)


async def test_no_emails_carry_a_childs_data_or_prices(monitoring: Monitoring) -> None:
    kinds = list(notifications.KIND_CODES)
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", kinds)
    await monitoring.feed(procurement_v1.TOPIC, decided("p-1"))
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1"))
    await monitoring.feed(procurement_v1.TOPIC, bid("p-1"))
    await monitoring.feed(procurement_v1.TOPIC, awarded("p-1"))
    rows = await queued(monitoring)
    assert {r.kind for r in rows} == {"decision", "invitation", "deadline", "award"}
    for row in rows:
        text = row.mail_subject + row.body
        for secret in (CHILD_REF, "1234.56", "46913.28", "asd", "ASD"):
            assert secret not in text
        assert f"{BASE}/portal" in row.body


# ------------------------------------------------------------------ sending


async def test_sending_through_a_real_smtp_server(monitoring: Monitoring) -> None:
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["decision"])
    await choose(monitoring, "cat", "p-1", "cat@oakfield.example", ["decision"])
    await monitoring.feed(procurement_v1.TOPIC, decided("p-1"))
    # Cat changes her mind before it goes: the sender reads the choice again.
    await choose(monitoring, "cat", "p-1", "cat@oakfield.example", [])
    with smtp_server() as (port, inbox):
        settings = MonitoringSettings(
            smtp_host="127.0.0.1", smtp_port=port, smtp_from="dps@council.example"
        )
        assert await send_due_notifications(monitoring.runtime, settings) == 2
        assert await send_due_notifications(monitoring.runtime, settings) == 0
    [message] = inbox.messages
    assert message["To"] == "ann@oakfield.example" and message["From"] == "dps@council.example"
    assert message["Subject"] == "Your application to join a DPS has been decided"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes) and f"{BASE}/portal#applications" in payload.decode()
    rows = {r.subject: r for r in await queued(monitoring)}
    assert (rows["ann"].status, rows["ann"].sent_to) == ("sent", "ann@oakfield.example")
    assert (rows["cat"].status, rows["cat"].last_error) == ("skipped", "unsubscribed")


async def test_a_failed_send_is_retried_later(monitoring: Monitoring) -> None:
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["decision"])
    await monitoring.feed(procurement_v1.TOPIC, decided("p-1"))
    settings = MonitoringSettings(
        smtp_host="127.0.0.1", smtp_port=processes.free_port(), delivery_backoff_s=30
    )
    await send_due_notifications(monitoring.runtime, settings)
    [row] = await queued(monitoring)
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error
    assert await send_due_notifications(monitoring.runtime, settings) == 0  # backing off


async def test_a_due_reminder_goes_and_a_late_one_is_dropped(monitoring: Monitoring) -> None:
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["deadline"])
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1", "c-1"))
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1", "c-2"))
    async with monitoring.runtime.db.transaction() as session:
        for row in (await session.exec(select(NotificationEmail))).all():
            # c-1: its reminder time has come; c-2: the stack was down past the deadline.
            row.due_at = NOW - timedelta(minutes=1)
            if row.topic_key.startswith("competition:c-2:"):
                row.expires_at = NOW - timedelta(seconds=1)
            session.add(row)
    with smtp_server() as (port, inbox):
        settings = MonitoringSettings(smtp_host="127.0.0.1", smtp_port=port)
        await send_due_notifications(monitoring.runtime, settings)
    [message] = inbox.messages
    assert message["Subject"] == "Bid deadline approaching: call-off c-1"
    rows = {r.topic_key.split(":")[1]: r for r in await queued(monitoring)}
    assert rows["c-1"].status == "sent"
    assert (rows["c-2"].status, rows["c-2"].last_error) == (
        "skipped",
        "deadline passed before sending",
    )


async def test_choosing_reminders_after_an_invitation_queues_them_once(
    monitoring: Monitoring,
) -> None:
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["deadline"])
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1", "c-1"))  # ann: reminded
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1", "c-2"))  # bid below
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1", "c-3", timedelta(days=-1)))
    await monitoring.feed(procurement_v1.TOPIC, invited("p-1", "c-4", timedelta(hours=12)))
    await monitoring.feed(procurement_v1.TOPIC, invited("p-2", "c-5"))  # another org
    await monitoring.feed(procurement_v1.TOPIC, bid("p-1", "c-2"))
    before = len(await queued(monitoring))
    # Cat chooses reminders after the invitations: the open ones (not bid, not past) only.
    await choose(monitoring, "cat", "p-1", "cat@oakfield.example", ["deadline"])
    await choose(monitoring, "cat", "p-1", "cat@oakfield.example", ["deadline"])  # again
    late = [r for r in await queued(monitoring) if r.subject == "cat"]
    assert sorted(r.topic_key for r in late) == ["competition:c-1:p-1", "competition:c-4:p-1"]
    assert len(await queued(monitoring)) == before + 2
    by_topic = {r.topic_key: r for r in late}
    lead = notifications.DEFAULT_REMINDER_LEAD
    assert by_topic["competition:c-1:p-1"].due_at == NOW + timedelta(days=5) - lead
    # Less than the lead left: due at once, still dropped after the deadline.
    assert by_topic["competition:c-4:p-1"].due_at > NOW
    assert by_topic["competition:c-4:p-1"].expires_at == NOW + timedelta(hours=12)
    assert all(f"{BASE}/portal/call-offs/" in r.body for r in late)
    # Ann, reminded of c-1 by the invitation itself, gets no second one on saving again
    # (c-4's window was shorter than the lead, so she gets that one now, like Cat).
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["deadline", "award"])
    await choose(monitoring, "ann", "p-1", "ann@oakfield.example", ["deadline", "award"])
    ann = sorted(r.topic_key for r in await queued(monitoring) if r.subject == "ann")
    assert ann == ["competition:c-1:p-1", "competition:c-2:p-1", "competition:c-4:p-1"]
    # A bid cancels the late reminder like any other.
    await monitoring.feed(procurement_v1.TOPIC, bid("p-1", "c-1"))
    statuses = {r.topic_key: r.status for r in await queued(monitoring) if r.subject == "cat"}
    assert statuses["competition:c-1:p-1"] == "cancelled"
