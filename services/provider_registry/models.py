"""Tables of the provider register (its own database only), and the mapping between a
row and the domain's immutable records.

Searchable facts are columns (need types and attendance also as ``,ASD,SLCN,`` text so a
plain LIKE filters them on SQLite and PostgreSQL alike); the full details are JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.provider_registry import domain
from shared.contracts.providers_v1 import ProviderStatus
from shared.infra_models import utcnow
from shared.kept_answers import VersionRow


class RegistryModel(SQLModel, registry=registry()):
    """Base of provider_registry tables: a registry of their own, apart from other services."""


class ProviderRow(RegistryModel, table=True):
    """One provider. Searchable facts are columns; the full details are kept as JSON."""

    __tablename__ = "provider"
    # Distance search: the bounding box is a range on latitude and longitude, and the
    # candidates' other columns (need, status, name, id) come from the index alone.
    __table_args__ = (
        Index(
            "ix_provider_location",
            "latitude",
            "longitude",
            "need_codes",
            "status",
            "name",
            "id",
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    urn: int = Field(unique=True, index=True)
    name: str = Field(max_length=200)
    status: str = Field(max_length=20, index=True)
    postcode: str = Field(max_length=10)
    postcode_district: str = Field(max_length=5, index=True)
    latitude: float | None = None
    longitude: float | None = None
    age_low: int
    age_high: int
    capacity: int
    places_in_use: int
    need_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attendance: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    latest_inspection: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
    # Search helpers, kept in step with the columns above by apply_provider().
    need_codes: str = Field(default="", max_length=100)
    attendance_codes: str = Field(default="", max_length=60)
    judgement_rank: int | None = Field(default=None, index=True)  # 1 outstanding .. 4
    next_document_expiry: date | None = Field(default=None, index=True)


class RegisterVersionRow(RegistryModel, VersionRow, table=True):
    """Which state of the register a search answered from: the database raises its
    version on every insert, update or delete of a provider row (triggers made by
    migration 0015, so no writer can forget it)."""

    __tablename__ = "register_version"


class InspectionRow(RegistryModel, table=True):
    """Every inspection recorded, in any framework (history; the latest is on the provider)."""

    __tablename__ = "inspection"

    id: int | None = Field(default=None, primary_key=True)
    provider_id: str = Field(max_length=36, index=True, foreign_key="provider.id")
    inspected_on: date
    inspection: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    declined: bool = False
    is_latest: bool = True
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow)


class StatusChangeRow(RegistryModel, table=True):
    """Who moved a provider on the status machine, when and why."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    provider_id: str = Field(max_length=36, index=True, foreign_key="provider.id")
    previous_status: str = Field(max_length=20)
    status: str = Field(max_length=20)
    changed_by: str = Field(max_length=200)
    changed_at: datetime
    reason: str = Field(max_length=2000)
    recommendation_id: str | None = Field(default=None, max_length=100)


class RecommendationRow(RegistryModel, table=True):
    """A suspension recommended by monitoring, waiting for a commissioner's decision."""

    __tablename__ = "suspension_recommendation"

    id: str = Field(primary_key=True, max_length=100)  # quality.v1 recommendation_id
    # As monitoring sent it (not a foreign key): an unknown id must not fail the consumer.
    provider_id: str = Field(max_length=100, index=True)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    alert_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recommended_at: datetime
    # The monitoring officer who raised it by hand (None: monitoring's rules) and the
    # grounds they cited (monitoring's codes).
    raised_by: str | None = Field(default=None, max_length=200)
    grounds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, index=True)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, max_length=2000)
    received_at: datetime = Field(default_factory=utcnow)


class DocumentNoticeRow(RegistryModel, table=True):
    """A provider.document_expiring event already sent: once per provider, kind and
    expiry date, however often the daily sweep runs."""

    __tablename__ = "document_notice"
    __table_args__ = (UniqueConstraint("provider_id", "kind", "expires_on"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=40)
    expires_on: date
    sent_at: datetime = Field(default_factory=utcnow)


# --- rows <-> domain --------------------------------------------------------------------

_DRAFT = TypeAdapter(domain.ProviderDraft)
_INSPECTION = TypeAdapter(domain.Inspection)


def draft_to_json(draft: domain.ProviderDraft) -> dict[str, Any]:
    data: dict[str, Any] = _DRAFT.dump_python(draft, mode="json", warnings=False)
    # Sets have no order: sort them so equal drafts store equal JSON.
    data["attendance"] = sorted(data["attendance"])
    data["need_types"] = sorted(data["need_types"])
    return data


def draft_from_json(data: dict[str, Any]) -> domain.ProviderDraft:
    return _DRAFT.validate_python(data)


def inspection_to_json(inspection: domain.Inspection) -> dict[str, Any]:
    data: dict[str, Any] = _INSPECTION.dump_python(inspection, mode="json", warnings=False)
    return data


def inspection_from_json(data: dict[str, Any]) -> domain.Inspection:
    return _INSPECTION.validate_python(data)


def to_domain(row: ProviderRow) -> domain.Provider:
    return provider_of(row.id, row.status, row.details, row.latest_inspection)


def provider_of(
    provider_id: str, status: str, details: dict[str, Any], latest: dict[str, Any] | None
) -> domain.Provider:
    """The provider from its record's columns (a row, or the columns a search read)."""
    return domain.Provider(
        provider_id=provider_id,
        details=draft_from_json(details),
        status=ProviderStatus(status),
        latest_inspection=inspection_from_json(latest) if latest else None,
    )


def _codes(values: list[str]) -> str:
    return "," + ",".join(values) + "," if values else ""


def apply_provider(row: ProviderRow, provider: domain.Provider) -> ProviderRow:
    """Copy the provider's state onto its row (new or loaded), search helpers included."""
    details = provider.details
    latest = provider.latest_inspection
    judgement = domain.equivalent_judgement(latest) if latest else None
    documents = domain.current_documents(details.documents)
    row.urn = details.urn
    row.name = details.name
    row.status = provider.status.value
    row.postcode = details.postcode
    row.postcode_district = domain.postcode_district(details.postcode) or ""
    row.latitude = details.latitude
    row.longitude = details.longitude
    row.age_low = details.age_low
    row.age_high = details.age_high
    row.capacity = details.capacity
    row.places_in_use = details.places_in_use
    row.need_types = sorted(details.need_types)
    row.attendance = sorted(details.attendance)
    row.need_codes = _codes(row.need_types)
    row.attendance_codes = _codes(row.attendance)
    row.details = draft_to_json(details)
    row.latest_inspection = inspection_to_json(latest) if latest else None
    row.judgement_rank = domain.judgement_rank(judgement) if judgement else None
    row.next_document_expiry = documents[0].expires_on if documents else None
    row.updated_at = utcnow()
    return row


def new_row(provider: domain.Provider) -> ProviderRow:
    row = ProviderRow(
        id=provider.provider_id,
        urn=provider.details.urn,
        name="",
        status=provider.status.value,
        postcode="",
        postcode_district="",
        age_low=0,
        age_high=0,
        capacity=0,
        places_in_use=0,
    )
    return apply_provider(row, provider)


def recommendation_to_domain(row: RecommendationRow) -> domain.SuspensionRecommendation:
    return domain.SuspensionRecommendation(
        recommendation_id=row.id,
        provider_id=row.provider_id,
        reasons=tuple(row.reasons),
        recommended_at=row.recommended_at,
        alert_ids=tuple(row.alert_ids),
        evidence_refs=tuple(row.evidence_refs),
        raised_by=row.raised_by,
        grounds=tuple(row.grounds),
        status=domain.RecommendationStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
    )


def apply_recommendation(
    row: RecommendationRow, recommendation: domain.SuspensionRecommendation
) -> RecommendationRow:
    row.status = recommendation.status.value
    row.decided_by = recommendation.decided_by
    row.decided_at = recommendation.decided_at
    row.decision_reason = recommendation.decision_reason
    return row


def status_change_row(change: domain.StatusChange) -> StatusChangeRow:
    return StatusChangeRow(
        provider_id=change.provider_id,
        previous_status=change.previous_status.value,
        status=change.status.value,
        changed_by=change.changed_by,
        changed_at=change.changed_at,
        reason=change.reason,
        recommendation_id=change.recommendation_id,
    )


# --- people (issue 15) ------------------------------------------------------------------


class RegistrationRow(RegistryModel, table=True):
    """A person's registration of its organisation: a claim on a provider on the
    register (by URN) or a new provider's details, until a commissioner decides it."""

    __tablename__ = "registration"

    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=10)  # domain.RegistrationKind
    subject: str = Field(max_length=200, index=True)  # the person's token subject
    person_name: str = Field(max_length=200)
    person_email: str = Field(max_length=200)
    urn: int | None = Field(default=None, index=True)
    # A claim: the provider claimed; a new provider: set once it is on the register.
    provider_id: str | None = Field(default=None, max_length=36, index=True)
    provider_name: str = Field(max_length=200)
    # A new provider's details (a draft without documents); empty for a claim.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=10, index=True)  # domain.RegistrationStatus
    submitted_at: datetime = Field(default_factory=utcnow)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=2000)


class MembershipRow(RegistryModel, table=True):
    """A person of a provider: what binds its tokens to the provider (GET /people/me)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("subject", "provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=200, index=True)
    provider_id: str = Field(max_length=36, index=True, foreign_key="provider.id")
    role: str = Field(max_length=20)  # domain.MemberRole
    status: str = Field(max_length=10)  # domain.MemberStatus
    name: str = Field(max_length=200)
    email: str = Field(max_length=200)
    joined_at: datetime = Field(default_factory=utcnow)
    # How the person came: their verified registration, or the invitation they accepted.
    registration_id: str | None = Field(default=None, max_length=36)
    invited_by: str | None = Field(default=None, max_length=200)


class InvitationRow(RegistryModel, table=True):
    """An administrator's invitation to join its provider. Only the code's SHA-256 is
    kept here: whoever reads this table cannot accept an invitation. (The answer that
    carried the code is kept with the request's Idempotency-Key, if it had one, for
    DPS_IDEMPOTENCY_RETENTION_HOURS, so that a resent form shows the same code.)"""

    __tablename__ = "invitation"

    id: str = Field(primary_key=True, max_length=36)
    code_sha256: str = Field(max_length=64, unique=True, index=True)
    provider_id: str = Field(max_length=36, index=True, foreign_key="provider.id")
    name: str = Field(max_length=200)
    email: str = Field(max_length=200)
    role: str = Field(max_length=20)
    invited_by: str = Field(max_length=200)
    invited_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_by: str | None = Field(default=None, max_length=200)
    accepted_at: datetime | None = None


class DocumentFileRow(RegistryModel, table=True):
    """A compliance document's file, kept in the register's own database (no file store
    to back up or secure apart from it). Every upload is kept; the newest of a kind is
    the one an officer downloads and verifies."""

    __tablename__ = "document_file"

    id: str = Field(primary_key=True, max_length=36)
    provider_id: str = Field(max_length=36, index=True, foreign_key="provider.id")
    kind: str = Field(max_length=40)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(default_factory=utcnow)
