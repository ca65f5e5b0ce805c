"""Payloads of topic ``providers.v1``, published by provider_registry.

Consumers (procurement, placements, monitoring) keep their own copy of what they need
from these payloads, so none of them ever reads the registry's database: a snapshot
carries status, need types, ages, attendance, location, document validity and the
latest inspection.

Compatibility: within ``.v1`` only optional fields are ever added. Unknown fields are
ignored when decoding, so an older consumer reads a newer payload.

The provider vocabulary (type, status, judgements, ...) lives here, not in the
service, because it is part of the public contract.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event
from shared.contracts.common import Attendance, NeedType

TOPIC = "providers.v1"

PROVIDER_REGISTERED = "provider.registered"
PROVIDER_UPDATED = "provider.updated"
PROVIDER_STATUS_CHANGED = "provider.status_changed"
PROVIDER_INSPECTION_RECORDED = "provider.inspection_recorded"
PROVIDER_DOCUMENT_EXPIRING = "provider.document_expiring"
PROVIDER_RECOMMENDATION_REJECTED = "provider.recommendation_rejected"


# --- vocabulary ---------------------------------------------------------------------


class ProviderType(StrEnum):
    """Kind of establishment a provider runs."""

    INDEPENDENT_SPECIAL_SCHOOL = "independent_special_school"
    NON_MAINTAINED_SPECIAL_SCHOOL = "non_maintained_special_school"
    SECTION_41_APPROVED = "section_41_approved"  # other independent school on the s41 list


class ProviderStatus(StrEnum):
    """Where a provider is on the register (see domain.ALLOWED_TRANSITIONS)."""

    REGISTERED = "registered"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class GenderIntake(StrEnum):
    MIXED = "mixed"
    BOYS = "boys"
    GIRLS = "girls"


class DocumentKind(StrEnum):
    """Compliance documents a provider must keep in date."""

    INSURANCE = "insurance"
    SAFEGUARDING_POLICY = "safeguarding_policy"
    FINANCIAL_CHECK = "financial_check"


class OfstedJudgement(StrEnum):
    """The four-point overall effectiveness judgement (Ofsted grades 1-4)."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


class ReportCardGrade(StrEnum):
    """Grades of the Ofsted report card used from November 2025, best first."""

    EXCEPTIONAL = "exceptional"
    STRONG_STANDARD = "strong_standard"
    EXPECTED_STANDARD = "expected_standard"
    NEEDS_ATTENTION = "needs_attention"
    URGENT_IMPROVEMENT = "urgent_improvement"


class ReportCardArea(StrEnum):
    """Evaluation areas of a report card (not every school is graded on every one)."""

    INCLUSION = "inclusion"
    CURRICULUM_AND_TEACHING = "curriculum_and_teaching"
    ACHIEVEMENT = "achievement"
    ATTENDANCE_AND_BEHAVIOUR = "attendance_and_behaviour"
    PERSONAL_DEVELOPMENT_AND_WELLBEING = "personal_development_and_wellbeing"
    LEADERSHIP_AND_GOVERNANCE = "leadership_and_governance"
    EARLY_YEARS = "early_years"
    SIXTH_FORM = "sixth_form"


# --- parts of payloads ----------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Location(_Payload):
    """Where the school is. Latitude/longitude are WGS84 degrees."""

    postcode: str
    postcode_district: str
    latitude: float | None = None
    longitude: float | None = None


class DocumentSummary(_Payload):
    kind: DocumentKind
    expires_on: date


class InspectionSummary(_Payload):
    """One inspection in any framework; ``equivalent_judgement`` is its four-point
    equivalent used for "minimum Ofsted judgement" filters (None: not graded)."""

    inspected_on: date
    overall: OfstedJudgement | None = None
    report_card: dict[ReportCardArea, ReportCardGrade] = Field(default_factory=dict)
    safeguarding_met: bool | None = None
    standards_met: bool | None = None  # Independent School Standards
    equivalent_judgement: OfstedJudgement | None = None


class ProviderSnapshot(_Payload):
    """Everything consumers need about a provider, as it is after the event."""

    provider_id: str
    urn: int = Field(ge=100000, le=999999)
    name: str
    proprietor: str
    provider_type: ProviderType
    section_41_approved: bool = False
    status: ProviderStatus
    age_low: int = Field(ge=0, le=25)
    age_high: int = Field(ge=0, le=25)
    gender_intake: GenderIntake
    attendance: list[Attendance]
    need_types: list[NeedType]
    capacity: int = Field(ge=0)
    places_in_use: int = Field(ge=0)
    location: Location
    documents: list[DocumentSummary] = Field(default_factory=list)
    documents_valid: bool  # every required kind present and in date
    latest_inspection: InspectionSummary | None = None
    local_authority_code: str | None = None


# --- events ---------------------------------------------------------------------------


class ProviderRegistered(Event):
    """A provider joined the register (status ``registered``)."""

    TOPIC: ClassVar[str] = TOPIC
    TYPE: ClassVar[str] = PROVIDER_REGISTERED
    SUBJECT_FIELD: ClassVar[str] = "provider"  # its subject is provider.provider_id
    provider: ProviderSnapshot
    registered_by: str

    def subject(self) -> str:
        return self.provider.provider_id


class ProviderUpdated(Event):
    """A provider's details changed; ``provider`` is the full state afterwards."""

    TOPIC: ClassVar[str] = TOPIC
    TYPE: ClassVar[str] = PROVIDER_UPDATED
    SUBJECT_FIELD: ClassVar[str] = "provider"  # its subject is provider.provider_id
    provider: ProviderSnapshot
    changed_fields: list[str]
    updated_by: str

    def subject(self) -> str:
        return self.provider.provider_id


class ProviderStatusChanged(Event):
    """A provider moved on the status machine, with who, when and why."""

    TOPIC: ClassVar[str] = TOPIC
    TYPE: ClassVar[str] = PROVIDER_STATUS_CHANGED
    SUBJECT_FIELD: ClassVar[str] = "provider_id"
    provider_id: str
    urn: int
    name: str
    previous_status: ProviderStatus
    status: ProviderStatus
    changed_by: str
    changed_at: datetime
    reason: str
    recommendation_id: str | None = None  # set when a quality recommendation was accepted


class ProviderInspectionRecorded(Event):
    """An inspection was recorded; ``declined`` says it is worse than ``previous``."""

    TOPIC: ClassVar[str] = TOPIC
    TYPE: ClassVar[str] = PROVIDER_INSPECTION_RECORDED
    SUBJECT_FIELD: ClassVar[str] = "provider_id"
    provider_id: str
    urn: int
    name: str
    previous: InspectionSummary | None = None
    new: InspectionSummary
    declined: bool
    is_latest: bool = True  # False when an older inspection was back-filled


class ProviderDocumentExpiring(Event):
    """A compliance document has expired or expires within the warning window."""

    TOPIC: ClassVar[str] = TOPIC
    TYPE: ClassVar[str] = PROVIDER_DOCUMENT_EXPIRING
    SUBJECT_FIELD: ClassVar[str] = "provider_id"
    provider_id: str
    urn: int
    name: str
    kind: DocumentKind
    expires_on: date
    days_until_expiry: int  # negative once expired
    expired: bool
    documents_valid: bool


class ProviderRecommendationRejected(Event):
    """A commissioner rejected a quality.v1 suspension recommendation: the provider stays
    as it was. (An accepted one shows as ``provider.status_changed`` citing it.) Lets
    monitoring close its recommendation, so a new one can be raised."""

    TOPIC: ClassVar[str] = TOPIC
    TYPE: ClassVar[str] = PROVIDER_RECOMMENDATION_REJECTED
    SUBJECT_FIELD: ClassVar[str] = "provider_id"
    provider_id: str
    recommendation_id: str
    rejected_by: str
    rejected_at: datetime
    reason: str


EVENT_MODELS: tuple[type[Event], ...] = (
    ProviderRegistered,
    ProviderUpdated,
    ProviderStatusChanged,
    ProviderInspectionRecorded,
    ProviderDocumentExpiring,
    ProviderRecommendationRejected,
)

EVENT_TYPES: dict[str, type[BaseModel]] = {model.TYPE: model for model in EVENT_MODELS}
