"""Tables of the monitoring service (its own database only)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Numeric, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.infra_models import utcnow
from shared.kept_answers import VersionRow


class MonitoringModel(SQLModel, registry=registry()):
    """Base of monitoring tables: a registry of their own, apart from other services."""


class ProviderProfile(MonitoringModel, table=True):
    """What monitoring knows of a provider, learned only from providers.v1 events."""

    __tablename__ = "provider_profile"

    provider_id: str = Field(primary_key=True, max_length=36)
    urn: int = Field(index=True)
    name: str = Field(max_length=200)
    status: str = Field(max_length=20)
    ofsted_judgement: str | None = Field(default=None, max_length=40)
    ofsted_inspected_on: datetime | None = None
    first_seen_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RuleVersion(MonitoringModel, table=True):
    """One version of an alert rule; the newest version of each rule id is in force.

    Old versions are never changed: together they are the audit of every rule change.
    """

    __tablename__ = "alert_rule_version"

    rule_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    title: str = Field(max_length=200)
    watches: str = Field(max_length=50)
    condition: str = Field(max_length=500)
    severity: str = Field(max_length=20)
    target: str = Field(max_length=20)
    cause_template: str = Field(max_length=200)
    enabled: bool = True
    changed_by: str = Field(default="system", max_length=200)
    changed_at: datetime | None = None
    change_reason: str | None = Field(default=None, max_length=1000)
    source: str | None = Field(default=None, max_length=1000)  # law or guidance it applies


class EvidenceRecord(MonitoringModel, table=True):
    """Evidence learned from an event or entered through the API (domain Evidence as JSON)."""

    __tablename__ = "evidence"

    evidence_id: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=50, index=True)
    provider_id: str | None = Field(default=None, max_length=200, index=True)
    placement_id: str | None = Field(default=None, max_length=200, index=True)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow)


class AlertInboxVersionRow(MonitoringModel, VersionRow, table=True):
    """Which state of the alerts an inbox page answered from: the database raises its
    version on every insert, update or delete of an alert (triggers made by migration
    0018, so no writer can forget it)."""

    __tablename__ = "alert_inbox_version"


class AlertRow(MonitoringModel, table=True):
    """An alert and its handling. `open_key` equals `dedupe_key` while the alert is
    unresolved and NULL once resolved: its unique index makes "one open alert per cause"
    hold even when two consumers race (NULLs never clash)."""

    __tablename__ = "alert"
    # The officers' inbox: one status, newest first, read from the index in order; the
    # dashboard's unresolved alerts per severity, counted from the index alone.
    __table_args__ = (
        Index("ix_alert_status_raised_at", "status", "raised_at"),
        Index(
            "ix_alert_open_severity",
            "severity",
            sqlite_where=text("open_key IS NOT NULL"),
            postgresql_where=text("open_key IS NOT NULL"),
        ),
    )

    alert_id: str = Field(primary_key=True, max_length=64)
    dedupe_key: str = Field(max_length=400, index=True)
    open_key: str | None = Field(default=None, max_length=400, unique=True)
    rule_id: str = Field(max_length=64)
    rule_version: int
    title: str = Field(max_length=200)
    severity: str = Field(max_length=20, index=True)
    target: str = Field(max_length=20)
    target_id: str = Field(max_length=200)
    provider_id: str | None = Field(default=None, max_length=200, index=True)
    placement_id: str | None = Field(default=None, max_length=200)
    cause: str = Field(max_length=400)
    evidence_kind: str = Field(max_length=50)
    evidence_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raised_at: datetime
    status: str = Field(max_length=20, index=True)
    assigned_to: str | None = Field(default=None, max_length=200)
    assigned_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=200)
    acknowledged_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=200)
    resolved_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=2000)
    escalated_at: datetime | None = None
    escalated_to: str | None = Field(default=None, max_length=200)
    escalation_deadline: datetime | None = None
    # Set once the escalation workflow exists; the sweep starts it for rows lacking it.
    workflow_started_at: datetime | None = None


class Delivery(MonitoringModel, table=True):
    """One outbound notice of an alert (email or webhook), sent by a background task
    after the alert committed, retried with backoff, so sending never blocks raising."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("alert_id", "channel", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=20)  # email | webhook
    purpose: str = Field(default="raised", max_length=20)  # raised | escalated
    status: str = Field(default="pending", max_length=20, index=True)  # pending|sent|failed|skipped
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=1000)
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Visit(MonitoringModel, table=True):
    __tablename__ = "monitoring_visit"

    visit_id: str = Field(primary_key=True, max_length=64)
    provider_id: str = Field(max_length=200, index=True)
    officer_id: str = Field(max_length=200)
    visited_on: date
    rating: int
    findings: str = Field(default="", max_length=4000)
    recorded_at: datetime = Field(default_factory=utcnow)


class KpiReturnRow(MonitoringModel, table=True):
    __tablename__ = "kpi_return"

    return_id: str = Field(primary_key=True, max_length=64)
    placement_id: str = Field(max_length=200, index=True)
    provider_id: str = Field(max_length=200, index=True)
    term: str = Field(max_length=20)
    attendance_pct: float
    exclusions: int
    incidents: int
    outcomes_progress: str = Field(max_length=20)
    submitted_on: date
    submitted_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow)


class Incident(MonitoringModel, table=True):
    """A safeguarding incident or complaint; the summary never leaves this database."""

    __tablename__ = "incident"

    incident_id: str = Field(primary_key=True, max_length=64)
    provider_id: str = Field(max_length=200, index=True)
    placement_id: str | None = Field(default=None, max_length=200)
    category: str = Field(max_length=20)
    severity: str = Field(max_length=20)
    occurred_on: date
    summary: str = Field(max_length=1000)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow)


class Recommendation(MonitoringModel, table=True):
    __tablename__ = "suspension_recommendation"

    recommendation_id: str = Field(primary_key=True, max_length=64)
    provider_id: str = Field(max_length=200, index=True)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    alert_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recommended_at: datetime
    status: str = Field(default="open", max_length=20)
    closed_at: datetime | None = None
    decision: str | None = Field(default=None, max_length=200)
    # Who raised it by hand (None: monitoring's rules) and the grounds they cited.
    raised_by: str | None = Field(default=None, max_length=200)
    grounds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PlacementFact(MonitoringModel, table=True):
    """A placement as learned from placements.v1 (for scorecards and the dashboard)."""

    __tablename__ = "placement_fact"
    # The dashboard's overdue reviews, read from the index alone.
    __table_args__ = (
        Index(
            "ix_placement_fact_review_pending",
            "review_due_on",
            "ends_on",
            "placement_id",
            sqlite_where=text("review_completed_on IS NULL"),
            postgresql_where=text("review_completed_on IS NULL"),
        ),
    )

    placement_id: str = Field(primary_key=True, max_length=200)
    provider_id: str = Field(max_length=200, index=True)
    primary_need: str = Field(max_length=10)
    starts_on: date
    ends_on: date | None = None
    weekly_fee: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    on_contract: bool = True
    review_due_on: date | None = None
    review_completed_on: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class SpendLineRow(MonitoringModel, table=True):
    """Latest committed-spend snapshot per placement and financial year."""

    __tablename__ = "spend_line"

    placement_id: str = Field(primary_key=True, max_length=200)
    financial_year: int = Field(primary_key=True)
    provider_id: str = Field(max_length=200)
    primary_need: str = Field(max_length=10)
    amount: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    on_contract: bool
    line: str = Field(default="placement", max_length=30)  # or "block_unfilled_places"
    updated_at: datetime = Field(default_factory=utcnow)


class SpendTotalRow(MonitoringModel, table=True):
    """The spend lines of one financial year, primary need and side of contract, summed
    (the dashboard's read model): kept up to date in the transactions that write
    spend_line, so the dashboard reads a few dozen rows instead of every line."""

    __tablename__ = "spend_total"

    financial_year: int = Field(primary_key=True)
    primary_need: str = Field(primary_key=True, max_length=10)
    on_contract: bool = Field(primary_key=True)
    lines: int = 0  # spend lines, zero ones too (0 once a line moved to the other side)
    placements: int = 0  # lines of a placement (not a block's unfilled places) with spend
    # Whole pence: adding in place stays exact on SQLite, which keeps NUMERIC as a float.
    pence: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class Budget(MonitoringModel, table=True):
    """The council's NMISS placement budget for one financial year (2025 = 2025/26),
    set by a commissioner; every change is audited (before and after)."""

    __tablename__ = "budget"

    financial_year: int = Field(primary_key=True)
    amount: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    set_by: str = Field(max_length=200)
    set_at: datetime = Field(default_factory=utcnow)
    reason: str | None = Field(default=None, max_length=1000)


class CompetitionFact(MonitoringModel, table=True):
    """A call-off competition as learned from procurement.v1 `competition.opened`: which
    placement need it was run for, so "no suitable bid" can name its target."""

    __tablename__ = "competition_fact"

    competition_id: str = Field(primary_key=True, max_length=200)
    need_ref: str | None = Field(default=None, max_length=200)
    category_code: str = Field(max_length=100)
    kind: str = Field(max_length=40)
    opened_at: datetime
    bids_received: int = 0  # in the latest closed round (competition.closed)


class NotificationSubscription(MonitoringModel, table=True):
    """One person's choice of e-mails (issue 15): which kinds, to which address. The
    person is the token's subject; provider_id is the organisation they act for."""

    __tablename__ = "notification_subscription"

    subject: str = Field(primary_key=True, max_length=200)
    provider_id: str = Field(max_length=200, index=True)
    email: str | None = Field(default=None, max_length=254)
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class NotificationEmail(MonitoringModel, table=True):
    """One e-mail to one person, queued by the consumer in the event's transaction and
    sent afterwards by the sender loop (an outbox of e-mails). `dedupe_key` (event id,
    kind, person) is unique: a redelivered event queues nothing twice."""

    __tablename__ = "notification_email"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=400, unique=True)
    subject: str = Field(max_length=200, index=True)  # the person (token subject)
    provider_id: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    # A reminder is cancelled by this key once the provider bids or bidding closes.
    topic_key: str = Field(max_length=400, index=True)  # e.g. "competition:<id>"
    mail_subject: str = Field(max_length=300)
    body: str = Field(max_length=4000)
    due_at: datetime  # business time (training clock) from which it may go
    expires_at: datetime | None = None  # a reminder after the deadline is not sent
    status: str = Field(
        default="pending", max_length=20, index=True
    )  # pending|sent|failed|skipped|cancelled
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)  # wall clock, retries
    last_error: str | None = Field(default=None, max_length=1000)
    sent_to: str | None = Field(default=None, max_length=254)
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class InvitationFact(MonitoringModel, table=True):
    """A provider invited to a call-off, and whether it bid: who hears of the award."""

    __tablename__ = "notification_invitation"

    competition_id: str = Field(primary_key=True, max_length=200)
    provider_id: str = Field(primary_key=True, max_length=200)
    deadline_at: datetime
    bid: bool = False
