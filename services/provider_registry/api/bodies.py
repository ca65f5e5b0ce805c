"""Request and response bodies of the register's provider routes, and the view of a
provider each caller may see."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.provider_registry import domain, events
from shared.api_types import RequestBody
from shared.contracts import providers_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.providers_v1 import (
    DocumentKind,
    GenderIntake,
    OfstedJudgement,
    ProviderStatus,
    ProviderType,
    ReportCardArea,
    ReportCardGrade,
)
from shared.unit_of_work import Actor

# --- request and response bodies --------------------------------------------------------


class ContactIn(RequestBody):
    name: str = Field(max_length=200)
    role: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)


class DocumentIn(RequestBody):
    """A compliance document. From a provider, ``expires_on`` is the expiry it proposes;
    the council verifies the document and sets the expiry."""

    kind: DocumentKind
    expires_on: date
    reference: str | None = Field(default=None, max_length=200)


class VerificationIn(RequestBody):
    """The expiry the officer read on the document (it may differ from the proposed)."""

    expires_on: date
    reference: str | None = Field(default=None, max_length=200)


def contacts_of(items: list[ContactIn]) -> tuple[domain.Contact, ...]:
    return tuple(domain.Contact(**c.model_dump()) for c in items)


def documents_of(items: list[DocumentIn]) -> tuple[domain.ComplianceDocument, ...]:
    return tuple(domain.ComplianceDocument(**d.model_dump()) for d in items)


class ProviderIn(RequestBody):
    """A provider as a commissioner registers it."""

    urn: int
    name: str
    proprietor: str
    provider_type: ProviderType
    address: str
    postcode: str
    latitude: float | None = None
    longitude: float | None = None
    age_low: int
    age_high: int
    gender_intake: GenderIntake = GenderIntake.MIXED
    attendance: list[Attendance]
    capacity: int
    places_in_use: int = 0
    need_types: list[NeedType]
    contacts: list[ContactIn] = Field(default_factory=list)
    documents: list[DocumentIn] = Field(default_factory=list)
    section_41_approved: bool = False
    local_authority_code: str | None = None
    local_authority_name: str | None = None

    def to_draft(self) -> domain.ProviderDraft:
        fields = self.model_dump(exclude={"contacts", "documents", "attendance", "need_types"})
        return domain.ProviderDraft(
            **fields,
            attendance=frozenset(self.attendance),
            need_types=frozenset(self.need_types),
            contacts=contacts_of(self.contacts),
            documents=documents_of(self.documents),
        )


class ProviderPatch(RequestBody):
    """Fields to change; those left out keep their value."""

    name: str | None = None
    proprietor: str | None = None
    provider_type: ProviderType | None = None
    address: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    age_low: int | None = None
    age_high: int | None = None
    gender_intake: GenderIntake | None = None
    attendance: list[Attendance] | None = None
    capacity: int | None = None
    places_in_use: int | None = None
    need_types: list[NeedType] | None = None
    contacts: list[ContactIn] | None = None
    documents: list[DocumentIn] | None = None
    section_41_approved: bool | None = None
    local_authority_code: str | None = None
    local_authority_name: str | None = None


# Fields that may be cleared with an explicit null; every other one needs a value.
NULLABLE = frozenset({"latitude", "longitude", "local_authority_code", "local_authority_name"})


class InspectionIn(RequestBody):
    inspected_on: date
    overall: OfstedJudgement | None = None
    report_card: dict[ReportCardArea, ReportCardGrade] = Field(default_factory=dict)
    safeguarding_met: bool | None = None
    standards_met: bool | None = None

    def to_domain(self) -> domain.Inspection:
        return domain.Inspection(**self.model_dump())


class StatusIn(RequestBody):
    status: ProviderStatus
    reason: str = Field(max_length=2000)


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class DecisionIn(RequestBody):
    decision: Decision
    reason: str = Field(max_length=2000)


class ProposedDocument(BaseModel):
    kind: DocumentKind
    proposed_expires_on: date
    reference: str | None = None


class ProviderRecord(providers_v1.ProviderSnapshot):
    """A provider's full record, for the council and for the provider itself:
    ``documents`` are the verified ones, proposals await an officer."""

    documents_awaiting_verification: list[ProposedDocument] = Field(default_factory=list)


class ProviderPublic(BaseModel):
    """What one provider may see of another: no capacity, places, contacts or documents."""

    model_config = ConfigDict(extra="forbid")  # a full record never passes for this

    provider_id: str
    urn: int
    name: str
    proprietor: str
    provider_type: ProviderType
    section_41_approved: bool
    status: ProviderStatus
    age_low: int
    age_high: int
    gender_intake: GenderIntake
    attendance: list[Attendance]
    need_types: list[NeedType]
    location: providers_v1.Location
    latest_inspection: providers_v1.InspectionSummary | None = None
    local_authority_code: str | None = None


ProviderView = ProviderRecord | ProviderPublic


class ProviderHit(BaseModel):
    provider: ProviderView
    distance_km: float | None = None


class ProviderPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ProviderHit]


class StatusChangeOut(BaseModel):
    previous_status: ProviderStatus
    status: ProviderStatus
    changed_by: str
    changed_at: datetime
    reason: str
    recommendation_id: str | None = None


class InspectionOut(BaseModel):
    inspection: providers_v1.InspectionSummary
    declined: bool
    is_latest: bool
    recorded_by: str
    recorded_at: datetime


class RecommendationOut(BaseModel):
    recommendation_id: str
    provider_id: str
    reasons: list[str]
    alert_ids: list[str]
    evidence_refs: list[str]
    recommended_at: datetime
    raised_by: str | None = None  # a monitoring officer raised it by hand
    grounds: list[str] = []
    status: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


def view(provider: domain.Provider, actor: Actor) -> ProviderView:
    """The full record for the council and the provider itself; another provider sees
    only the public fields (competitors' capacity and documents are not theirs)."""
    return _view(provider, _public_to(actor, provider), date.today())


def _public_to(actor: Actor, provider: domain.Provider) -> bool:
    return actor.role == Role.PROVIDER.value and actor.provider_id != provider.provider_id


def _view(provider: domain.Provider, public: bool, today: date) -> ProviderView:
    # The snapshot is validated once; the view takes its values as they are (dumping
    # and validating them again cost a third of a search page).
    fields = dict(events.provider_snapshot(provider, today))
    if public:
        return ProviderPublic.model_construct(**{name: fields[name] for name in _PUBLIC})
    pending = [
        ProposedDocument(kind=d.kind, proposed_expires_on=d.expires_on, reference=d.reference)
        for d in domain.pending_documents(provider.details.documents)
    ]
    return ProviderRecord.model_construct(**fields, documents_awaiting_verification=pending)


# Views of the providers a search found, by the provider object: the store hands a
# repeated search the same (immutable) provider for an unchanged record, so its view,
# which depends only on the provider, the day (documents expire) and whether the caller
# sees the public fields alone, is built once. The entry holds the provider, so its id
# names no other object while the entry lives. Bounded; emptied when full.
_search_views: dict[tuple[int, date, bool], tuple[domain.Provider, ProviderView]] = {}
_SEARCH_VIEWS_MAX = 2048


def search_view(provider: domain.Provider, actor: Actor, today: date) -> ProviderView:
    """`view` on `today`, reused across searches while the provider's record is unchanged."""
    key = (id(provider), today, _public_to(actor, provider))
    held = _search_views.get(key)
    if held is not None and held[0] is provider:
        return held[1]
    built = _view(provider, key[2], key[1])
    if len(_search_views) >= _SEARCH_VIEWS_MAX:
        _search_views.clear()
    _search_views[key] = (provider, built)
    return built


_PUBLIC = tuple(ProviderPublic.model_fields)
