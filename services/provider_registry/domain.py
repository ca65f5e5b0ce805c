"""Provider register rules: pure functions and immutable records, no I/O, no clock.

Callers pass ``today`` / ``now``. Validation names the field and the rule
(:class:`DomainError`, from ``shared.errors``) so the API can answer 422 with both; a
whole draft is checked at once and every error is reported (:class:`ProviderInvalid`, a
``RulesBroken``). An illegal move on a state machine raises :class:`IllegalTransition`
(a ``Conflict``: the API's 409).

Distances are great-circle (haversine) kilometres on WGS84 latitude/longitude, mean
Earth radius 6371.0088 km. Within Great Britain this agrees with Euclidean distance on
British National Grid eastings/northings to within about 0.1 %.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.contracts.common import Attendance, NeedType
from shared.contracts.inspections import REPORT_CARD_RANK, judgement_rank, read_inspection
from shared.contracts.providers_v1 import (
    DocumentKind,
    DocumentSummary,
    GenderIntake,
    InspectionSummary,
    Location,
    OfstedJudgement,
    ProviderDocumentExpiring,
    ProviderInspectionRecorded,
    ProviderRecommendationRejected,
    ProviderRegistered,
    ProviderSnapshot,
    ProviderStatus,
    ProviderStatusChanged,
    ProviderType,
    ProviderUpdated,
    ReportCardArea,
    ReportCardGrade,
)
from shared.errors import Conflict, DomainError, RulesBroken
from shared.geography import Point, normalise_postcode, postcode_district

# --- errors ---------------------------------------------------------------------------
# DomainError (422, names field and rule) comes from shared.errors so that every
# service's API answers alike; it is re-exported here for callers of this module.


class ProviderInvalid(RulesBroken):
    """Every rule a draft (or inspection, or search) breaks, not only the first (422)."""


class IllegalTransition(Conflict):
    """A state machine was asked for a move it does not allow (409).

    ``field`` names the state (e.g. ``"status"``); ``current``/``requested`` the move.
    """

    def __init__(self, field: str, current: str, requested: str) -> None:
        self.current = str(current)
        self.requested = str(requested)
        super().__init__(field, f"cannot go from {self.current!r} to {self.requested!r}")


# --- postcodes and places -------------------------------------------------------------
# Point, normalise_postcode and postcode_district live in shared.geography (shared with
# procurement); they are re-exported here for callers of this module.

POSTCODE_RULE = "must be a UK postcode, e.g. ME14 1XX"

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def distance_km(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# A generous box round the UK (Scilly to Shetland, Fermanagh to Lowestoft): catches
# swapped or zeroed coordinates.
UK_LATITUDE = (49.0, 61.0)
UK_LONGITUDE = (-9.0, 2.0)


# --- provider records -----------------------------------------------------------------

URN_RANGE = (100000, 999999)
AGE_RANGE = (0, 25)  # CYP with an EHC plan: to 25
REQUIRED_DOCUMENTS = frozenset(DocumentKind)
DOCUMENT_WARNING_DAYS = 30

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS_RE = re.compile(r"^\+?[0-9 ()\-]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A person the council deals with at the provider."""

    name: str
    role: str = ""  # e.g. "headteacher", "admissions", "finance"
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplianceDocument:
    """A compliance document; ``expires_on`` is the last day it is valid.

    The council verifies documents and sets their expiry (issue 13): until an officer
    has (``verified_by``), the document is a provider's proposal and ``expires_on`` the
    expiry it proposed; a proposal counts for nothing (compliance, bids, the sweep).
    """

    kind: DocumentKind
    expires_on: date
    reference: str | None = None  # document store key or file name
    verified_by: str | None = None  # the officer who checked it and set expires_on
    verified_on: date | None = None

    @property
    def verified(self) -> bool:
        return self.verified_by is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderDraft:
    """The facts about a provider as submitted. Check with :func:`validate_draft`;
    :func:`clean_draft` returns the normalised copy the register keeps."""

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
    attendance: frozenset[Attendance]
    capacity: int
    places_in_use: int = 0
    need_types: frozenset[NeedType]
    contacts: tuple[Contact, ...] = ()
    documents: tuple[ComplianceDocument, ...] = ()
    section_41_approved: bool = False
    local_authority_code: str | None = None
    local_authority_name: str | None = None

    @property
    def location(self) -> Point | None:
        if self.latitude is None or self.longitude is None:
            return None
        return Point(self.latitude, self.longitude)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_urn(urn: int) -> list[DomainError]:
    low, high = URN_RANGE
    if _is_int(urn) and low <= urn <= high:
        return []
    return [DomainError("urn", "must be 6 digits, 100000-999999")]


def _check_text(name: str, value: str, max_length: int = 200) -> list[DomainError]:
    if not isinstance(value, str) or not value.strip():
        return [DomainError(name, "must not be blank")]
    if len(value.strip()) > max_length:
        return [DomainError(name, f"must be at most {max_length} characters")]
    return []


def _check_ages(low: int, high: int) -> list[DomainError]:
    lowest, highest = AGE_RANGE
    errors = [
        DomainError(name, f"must be a whole number of years, {lowest}-{highest}")
        for name, age in (("age_low", low), ("age_high", high))
        if not (_is_int(age) and lowest <= age <= highest)
    ]
    if not errors and low > high:
        errors.append(DomainError("age_high", "must not be below age_low"))
    return errors


def _check_places(capacity: int, in_use: int) -> list[DomainError]:
    errors: list[DomainError] = []
    if not (_is_int(capacity) and capacity >= 0):
        errors.append(DomainError("capacity", "must be a whole number, 0 or more"))
    if not (_is_int(in_use) and in_use >= 0):
        errors.append(DomainError("places_in_use", "must be a whole number, 0 or more"))
    if not errors and in_use > capacity:
        errors.append(DomainError("places_in_use", "must not exceed capacity"))
    return errors


def _check_location(latitude: float | None, longitude: float | None) -> list[DomainError]:
    if latitude is None and longitude is None:
        return []
    if latitude is None or longitude is None:
        missing = "latitude" if latitude is None else "longitude"
        return [DomainError(missing, "must be given with the other coordinate")]
    errors = []
    if not UK_LATITUDE[0] <= latitude <= UK_LATITUDE[1]:
        errors.append(DomainError("latitude", "must be within the UK, 49.0 to 61.0"))
    if not UK_LONGITUDE[0] <= longitude <= UK_LONGITUDE[1]:
        errors.append(DomainError("longitude", "must be within the UK, -9.0 to 2.0"))
    return errors


def _check_contact(index: int, contact: Contact) -> list[DomainError]:
    prefix = f"contacts[{index}]"
    errors = _check_text(f"{prefix}.name", contact.name)
    if contact.email is not None and not _EMAIL_RE.match(contact.email):
        errors.append(DomainError(f"{prefix}.email", "must be an email address"))
    if contact.phone is not None and not _is_phone(contact.phone):
        errors.append(DomainError(f"{prefix}.phone", "must be a phone number of 10-13 digits"))
    return errors


def _is_phone(phone: str) -> bool:
    digits = sum(character.isdigit() for character in phone)
    return bool(_PHONE_CHARS_RE.match(phone)) and 10 <= digits <= 13


def validate_draft(draft: ProviderDraft) -> list[DomainError]:
    """Every rule the draft breaks (empty list: the draft is valid)."""
    errors = _check_urn(draft.urn)
    errors += _check_text("name", draft.name)
    errors += _check_text("proprietor", draft.proprietor)
    errors += _check_text("address", draft.address, max_length=500)
    if normalise_postcode(draft.postcode) is None:
        errors.append(DomainError("postcode", POSTCODE_RULE))
    errors += _check_location(draft.latitude, draft.longitude)
    errors += _check_ages(draft.age_low, draft.age_high)
    if not draft.attendance:
        errors.append(DomainError("attendance", "must offer day and/or residential places"))
    errors += _check_places(draft.capacity, draft.places_in_use)
    if not draft.need_types:
        errors.append(DomainError("need_types", "must name at least one need type"))
    for index, contact in enumerate(draft.contacts):
        errors += _check_contact(index, contact)
    return errors


def clean_draft(draft: ProviderDraft) -> ProviderDraft:
    """The normalised draft (postcode formatted, text trimmed); raises ProviderInvalid."""
    errors = validate_draft(draft)
    if errors:
        raise ProviderInvalid(errors)
    return replace(
        draft,
        name=draft.name.strip(),
        proprietor=draft.proprietor.strip(),
        address=draft.address.strip(),
        postcode=normalise_postcode(draft.postcode) or draft.postcode,
    )


# --- inspections ----------------------------------------------------------------------

# Ranks, the report-card equivalence and the safeguarding/standards rules live in
# shared.contracts.inspections: the one reading of an inspection, monitoring's too.


@dataclass(frozen=True, kw_only=True)
class Inspection:
    """One inspection in any framework: the four-point judgement (``overall``), a
    report card (grade per area), and/or Independent School Standards met/not met."""

    inspected_on: date
    overall: OfstedJudgement | None = None
    report_card: Mapping[ReportCardArea, ReportCardGrade] = field(default_factory=dict)
    safeguarding_met: bool | None = None
    standards_met: bool | None = None


def equivalent_judgement(inspection: Inspection) -> OfstedJudgement | None:
    """The inspection read on the four-point scale, or None when it grades nothing.

    Delegates to :func:`shared.contracts.inspections.read_inspection`: a report card
    counts as its weakest area, safeguarding not met as inadequate, Independent School
    Standards not met caps at requires improvement (sources there).
    """
    return read_inspection(inspection).equivalent


def meets_minimum(inspection: Inspection | None, minimum: OfstedJudgement) -> bool:
    """True when the inspection is at least ``minimum``; ungraded never qualifies."""
    if inspection is None:
        return False
    judgement = equivalent_judgement(inspection)
    return judgement is not None and judgement_rank(judgement) <= judgement_rank(minimum)


def _fell(previous: bool | None, new: bool | None) -> bool:
    return previous is True and new is False


def is_decline(previous: Inspection | None, new: Inspection) -> bool:
    """True when ``new`` is worse than ``previous``: a lower four-point equivalent, a
    report card area graded lower, or standards/safeguarding going from met to not met."""
    if previous is None:
        return False
    before, after = equivalent_judgement(previous), equivalent_judgement(new)
    if before is not None and after is not None and judgement_rank(after) > judgement_rank(before):
        return True
    if _fell(previous.standards_met, new.standards_met):
        return True
    if _fell(previous.safeguarding_met, new.safeguarding_met):
        return True
    shared_areas = previous.report_card.keys() & new.report_card.keys()
    return any(
        REPORT_CARD_RANK[new.report_card[area]] > REPORT_CARD_RANK[previous.report_card[area]]
        for area in shared_areas
    )


def validate_inspection(inspection: Inspection, today: date) -> list[DomainError]:
    """An inspection must be dated today or earlier and record at least one outcome."""
    errors = []
    if inspection.inspected_on > today:
        errors.append(DomainError("inspected_on", "must not be in the future"))
    has_outcome = (
        inspection.overall is not None
        or bool(inspection.report_card)
        or inspection.standards_met is not None
        or inspection.safeguarding_met is not None
    )
    if not has_outcome:
        errors.append(
            DomainError("inspection", "must record a judgement, report card or standards")
        )
    return errors


# --- the provider and its status machine ----------------------------------------------

ALLOWED_TRANSITIONS: Mapping[ProviderStatus, frozenset[ProviderStatus]] = {
    ProviderStatus.REGISTERED: frozenset({ProviderStatus.ACTIVE, ProviderStatus.REMOVED}),
    ProviderStatus.ACTIVE: frozenset({ProviderStatus.SUSPENDED}),
    ProviderStatus.SUSPENDED: frozenset({ProviderStatus.ACTIVE, ProviderStatus.REMOVED}),
    ProviderStatus.REMOVED: frozenset(),  # final
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    """A provider on the register: its validated details plus status and latest
    inspection (the full history is kept by the caller)."""

    provider_id: str
    details: ProviderDraft
    status: ProviderStatus = ProviderStatus.REGISTERED
    latest_inspection: Inspection | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """Audit record of one status move: who, when, why."""

    provider_id: str
    previous_status: ProviderStatus
    status: ProviderStatus
    changed_by: str
    changed_at: datetime
    reason: str
    recommendation_id: str | None = None


def register_provider(provider_id: str, draft: ProviderDraft) -> Provider:
    """A new provider in status ``registered``; raises ProviderInvalid."""
    return Provider(provider_id=provider_id, details=clean_draft(draft))


def update_details(provider: Provider, draft: ProviderDraft) -> tuple[Provider, list[str]]:
    """Replace the details; returns the provider and the names of fields that changed.

    A removed provider is final and cannot be edited (IllegalTransition).
    """
    if provider.status is ProviderStatus.REMOVED:
        raise IllegalTransition("status", provider.status, "details updated")
    cleaned = clean_draft(draft)
    changed = [
        item.name
        for item in fields(ProviderDraft)
        if getattr(provider.details, item.name) != getattr(cleaned, item.name)
    ]
    return replace(provider, details=cleaned), changed


def can_change_status(current: ProviderStatus, requested: ProviderStatus) -> bool:
    return requested in ALLOWED_TRANSITIONS[current]


def _check_actor(by: str, at: datetime, reason: str) -> None:
    if not by.strip():
        raise DomainError("changed_by", "must name who made the change")
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError("changed_at", "must be timezone-aware")
    if not reason.strip():
        raise DomainError("reason", "must say why")


def change_status(
    provider: Provider,
    status: ProviderStatus,
    *,
    by: str,
    at: datetime,
    reason: str,
    recommendation_id: str | None = None,
) -> tuple[Provider, StatusChange]:
    """Move the provider to ``status``; raises IllegalTransition or DomainError."""
    if not can_change_status(provider.status, status):
        raise IllegalTransition("status", provider.status, status)
    _check_actor(by, at, reason)
    change = StatusChange(
        provider_id=provider.provider_id,
        previous_status=provider.status,
        status=status,
        changed_by=by.strip(),
        changed_at=at,
        reason=reason.strip(),
        recommendation_id=recommendation_id,
    )
    return replace(provider, status=status), change


# --- establishments closing (GIAS) --------------------------------------------------


class EstablishmentClosure(StrEnum):
    """What the DfE register (GIAS ``EstablishmentStatus``) says about a school closing."""

    CLOSED = "closed"  # "Closed": no longer a school
    PROPOSED_TO_CLOSE = "proposed_to_close"  # "Open, but proposed to close"


# Where a provider whose establishment is closing ends up. A closed establishment is no
# longer a registered school (Education and Skills Act 2008 Part 4, the register of
# independent educational institutions; DfE GIAS status "Closed"): it leaves the
# register for good (a school that reopens gets a new URN). One proposed to close may still
# teach its pupils but must not take new placements: suspended (no new call-offs) until
# a commissioner decides, and reversible if the proposal is withdrawn.
CLOSURE_STATUS: Mapping[EstablishmentClosure, ProviderStatus] = {
    EstablishmentClosure.CLOSED: ProviderStatus.REMOVED,
    EstablishmentClosure.PROPOSED_TO_CLOSE: ProviderStatus.SUSPENDED,
}
CLOSURE_REASON: Mapping[EstablishmentClosure, str] = {
    EstablishmentClosure.CLOSED: "GIAS: establishment closed",
    EstablishmentClosure.PROPOSED_TO_CLOSE: "GIAS: establishment open, but proposed to close",
}


def status_path(current: ProviderStatus, target: ProviderStatus) -> list[ProviderStatus]:
    """Shortest run of allowed moves from ``current`` to ``target`` that never makes the
    provider active on the way ([] when already there or there is no such way)."""
    paths: dict[ProviderStatus, list[ProviderStatus]] = {current: []}
    queue = [current]
    while queue:
        status = queue.pop(0)
        if status is target:
            return paths[status]
        for following in sorted(ALLOWED_TRANSITIONS[status]):
            if following not in paths and following is not ProviderStatus.ACTIVE:
                paths[following] = [*paths[status], following]
                queue.append(following)
    return []


def close_establishment(
    provider: Provider, closure: EstablishmentClosure, *, by: str, at: datetime
) -> tuple[Provider, list[StatusChange]]:
    """Move the provider to where its closing establishment belongs, through the normal
    status changes (each one audited and published). A provider only ``registered`` is
    not moved on a proposal to close (it is not active, so never invited)."""
    changes = []
    for status in status_path(provider.status, CLOSURE_STATUS[closure]):
        provider, change = change_status(
            provider, status, by=by, at=at, reason=CLOSURE_REASON[closure]
        )
        changes.append(change)
    return provider, changes


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionRecorded:
    """Outcome of recording an inspection against the provider's latest one."""

    previous: Inspection | None
    new: Inspection
    declined: bool
    is_latest: bool  # False when an older inspection is back-filled


def record_inspection(
    provider: Provider, inspection: Inspection, today: date
) -> tuple[Provider, InspectionRecorded]:
    """Record an inspection; raises ProviderInvalid for a future or empty one.

    An inspection older than the latest is history only: it neither replaces the
    latest nor counts as a decline.
    """
    errors = validate_inspection(inspection, today)
    if errors:
        raise ProviderInvalid(errors)
    previous = provider.latest_inspection
    is_latest = previous is None or inspection.inspected_on >= previous.inspected_on
    outcome = InspectionRecorded(
        previous=previous,
        new=inspection,
        declined=is_latest and is_decline(previous, inspection),
        is_latest=is_latest,
    )
    if is_latest:
        provider = replace(provider, latest_inspection=inspection)
    return provider, outcome


# --- compliance documents -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """Current documents (latest per kind) sorted into expired / expiring soon, and
    required kinds with no document at all."""

    expired: tuple[ComplianceDocument, ...]
    expiring_soon: tuple[ComplianceDocument, ...]
    missing: frozenset[DocumentKind]

    @property
    def all_valid(self) -> bool:
        """Every required kind present and none expired (expiring soon is still valid)."""
        return not self.expired and not self.missing


def current_documents(documents: Iterable[ComplianceDocument]) -> list[ComplianceDocument]:
    """The verified document of each kind with the latest expiry; a renewal supersedes
    the old. Proposals awaiting verification are left out."""
    latest: dict[DocumentKind, ComplianceDocument] = {}
    for document in (d for d in documents if d.verified):
        held = latest.get(document.kind)
        if held is None or document.expires_on > held.expires_on:
            latest[document.kind] = document
    return sorted(latest.values(), key=lambda document: (document.expires_on, document.kind))


def pending_documents(documents: Iterable[ComplianceDocument]) -> list[ComplianceDocument]:
    """A provider's proposals the council has not verified yet."""
    return [d for d in documents if not d.verified]


def verified_as(
    documents: Iterable[ComplianceDocument], by: str, on: date
) -> tuple[ComplianceDocument, ...]:
    """Documents the council itself enters: verified by whoever entered them."""
    return tuple(replace(d, verified_by=by, verified_on=on) for d in documents)


def propose_documents(
    held: Iterable[ComplianceDocument], proposals: Iterable[ComplianceDocument]
) -> tuple[ComplianceDocument, ...]:
    """A provider's documents: they replace its earlier proposals, unverified; the
    council-verified documents stay as they are (a provider neither moves their expiry
    nor removes them). Resending a verified document as it is changes nothing."""
    verified = tuple(d for d in held if d.verified)
    same = {(d.kind, d.expires_on, d.reference) for d in verified}
    fresh = tuple(
        replace(p, verified_by=None, verified_on=None)
        for p in proposals
        if (p.kind, p.expires_on, p.reference) not in same
    )
    return verified + fresh


def verify_document(
    held: Iterable[ComplianceDocument], kind: DocumentKind, expires_on: date, by: str, on: date
) -> tuple[ComplianceDocument, ...]:
    """An officer verifies the latest proposal of ``kind`` and sets its expiry (which
    may differ from the one proposed); older proposals of that kind are dropped."""
    documents = tuple(held)
    proposals = [d for d in documents if not d.verified and d.kind is kind]
    if not proposals:
        raise Conflict("kind", f"no {kind} document awaits verification")
    if not by.strip():
        raise DomainError("verified_by", "must name who verified the document")
    kept = tuple(d for d in documents if d.verified or d.kind is not kind)
    verified = replace(proposals[-1], expires_on=expires_on, verified_by=by, verified_on=on)
    return (*kept, verified)


def check_documents(
    documents: Iterable[ComplianceDocument],
    today: date,
    warning_days: int = DOCUMENT_WARNING_DAYS,
) -> DocumentCheck:
    """Expired: ``expires_on`` before today. Expiring soon: today to today+warning_days."""
    current = current_documents(documents)
    horizon = today + timedelta(days=warning_days)
    return DocumentCheck(
        expired=tuple(d for d in current if d.expires_on < today),
        expiring_soon=tuple(d for d in current if today <= d.expires_on <= horizon),
        missing=REQUIRED_DOCUMENTS - {d.kind for d in current},
    )


# --- search ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSearch:
    """What a commissioner looks for. Empty/None criteria do not filter.

    ``need_types``: the provider must meet every one. ``near`` + ``within_km``: only
    located providers within the radius, nearest first (otherwise ordered by name).
    """

    need_types: frozenset[NeedType] = frozenset()
    age: int | None = None
    attendance: Attendance | None = None
    statuses: frozenset[ProviderStatus] = frozenset({ProviderStatus.ACTIVE})
    minimum_judgement: OfstedJudgement | None = None
    near: Point | None = None
    within_km: float | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    provider: Provider
    distance_km: float | None  # None when the search had no ``near`` point


def validate_search(search: ProviderSearch) -> list[DomainError]:
    """Rules on the search itself (ages in range, a radius needs a point)."""
    errors = []
    if search.age is not None and not AGE_RANGE[0] <= search.age <= AGE_RANGE[1]:
        errors.append(DomainError("age", "must be 0-25"))
    if search.within_km is not None:
        if search.within_km <= 0:
            errors.append(DomainError("within_km", "must be more than 0"))
        if search.near is None:
            errors.append(DomainError("within_km", "needs a point to measure from"))
    return errors


def matches(provider: Provider, search: ProviderSearch) -> bool:
    """Whether the provider passes every non-distance criterion of the search."""
    details = provider.details
    if search.statuses and provider.status not in search.statuses:
        return False
    if not search.need_types <= details.need_types:
        return False
    if search.age is not None and not details.age_low <= search.age <= details.age_high:
        return False
    if search.attendance is not None and search.attendance not in details.attendance:
        return False
    if search.minimum_judgement is not None:
        return meets_minimum(provider.latest_inspection, search.minimum_judgement)
    return True


def search_providers(providers: Iterable[Provider], search: ProviderSearch) -> list[SearchHit]:
    """Filter and order providers; raises ProviderInvalid for a malformed search."""
    errors = validate_search(search)
    if errors:
        raise ProviderInvalid(errors)
    hits = [SearchHit(p, None) for p in providers if matches(p, search)]
    if search.near is None:
        return sorted(hits, key=lambda hit: (hit.provider.details.name, hit.provider.provider_id))
    return _nearest_first(hits, search.near, search.within_km)


def _nearest_first(hits: list[SearchHit], near: Point, within_km: float | None) -> list[SearchHit]:
    located = []
    for hit in hits:
        location = hit.provider.details.location
        if location is None:
            continue  # cannot say how far: never offered as "near"
        distance = distance_km(near, location)
        if within_km is None or distance <= within_km:
            located.append(SearchHit(hit.provider, distance))
    return sorted(
        located,
        key=lambda hit: (hit.distance_km, hit.provider.details.name, hit.provider.provider_id),
    )


# --- suspension recommendations from monitoring ---------------------------------------


class RecommendationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class SuspensionRecommendation:
    """Monitoring's advice to suspend a provider (quality.v1
    ``quality.provider.suspension_recommended``; fields named as there). It waits for
    a commissioner: the register never suspends on a recommendation alone."""

    recommendation_id: str
    provider_id: str
    reasons: tuple[str, ...]
    recommended_at: datetime
    alert_ids: tuple[str, ...] = ()
    evidence_refs: tuple[str, ...] = ()
    raised_by: str | None = None  # a monitoring officer raised it by hand; None: rules
    grounds: tuple[str, ...] = ()  # monitoring's ground codes, when raised by hand
    status: RecommendationStatus = RecommendationStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


def receive_recommendation(
    *,
    recommendation_id: str,
    provider_id: str,
    reasons: Iterable[str],
    recommended_at: datetime,
    alert_ids: Iterable[str] = (),
    evidence_refs: Iterable[str] = (),
    raised_by: str | None = None,
    grounds: Iterable[str] = (),
) -> SuspensionRecommendation:
    """A pending recommendation, as received from quality.v1; raises ProviderInvalid."""
    given = tuple(reason.strip() for reason in reasons if reason.strip())
    errors = []
    if not recommendation_id.strip():
        errors.append(DomainError("recommendation_id", "must not be blank"))
    if not provider_id.strip():
        errors.append(DomainError("provider_id", "must not be blank"))
    if not given:
        errors.append(DomainError("reasons", "must give at least one reason"))
    if errors:
        raise ProviderInvalid(errors)
    return SuspensionRecommendation(
        recommendation_id=recommendation_id,
        provider_id=provider_id,
        reasons=given,
        recommended_at=recommended_at,
        alert_ids=tuple(alert_ids),
        evidence_refs=tuple(evidence_refs),
        raised_by=(raised_by or "").strip() or None,
        grounds=tuple(grounds),
    )


def _decide(
    recommendation: SuspensionRecommendation,
    outcome: RecommendationStatus,
    by: str,
    at: datetime,
    reason: str,
) -> SuspensionRecommendation:
    if recommendation.status is not RecommendationStatus.PENDING:
        raise IllegalTransition("recommendation.status", recommendation.status, outcome)
    _check_actor(by, at, reason)
    return replace(
        recommendation,
        status=outcome,
        decided_by=by.strip(),
        decided_at=at,
        decision_reason=reason.strip(),
    )


def accept_recommendation(
    recommendation: SuspensionRecommendation,
    provider: Provider,
    *,
    by: str,
    at: datetime,
    reason: str,
) -> tuple[SuspensionRecommendation, Provider, StatusChange]:
    """A commissioner accepts: the provider is suspended, citing the recommendation.

    Raises IllegalTransition if already decided or the provider is not active.
    """
    if recommendation.provider_id != provider.provider_id:
        raise DomainError("provider_id", "must be the provider the recommendation is about")
    decided = _decide(recommendation, RecommendationStatus.ACCEPTED, by, at, reason)
    suspended, change = change_status(
        provider,
        ProviderStatus.SUSPENDED,
        by=by,
        at=at,
        reason=reason,
        recommendation_id=recommendation.recommendation_id,
    )
    return decided, suspended, change


def reject_recommendation(
    recommendation: SuspensionRecommendation, *, by: str, at: datetime, reason: str
) -> SuspensionRecommendation:
    """A commissioner rejects: nothing happens to the provider."""
    return _decide(recommendation, RecommendationStatus.REJECTED, by, at, reason)


# --- event payloads (providers.v1) ----------------------------------------------------


def inspection_summary(inspection: Inspection) -> InspectionSummary:
    return InspectionSummary(
        inspected_on=inspection.inspected_on,
        overall=inspection.overall,
        report_card=dict(inspection.report_card),
        safeguarding_met=inspection.safeguarding_met,
        standards_met=inspection.standards_met,
        equivalent_judgement=equivalent_judgement(inspection),
    )


def provider_snapshot(provider: Provider, today: date) -> ProviderSnapshot:
    """The provider as consumers see it; ``today`` decides document validity."""
    details = provider.details
    documents = current_documents(details.documents)
    latest = provider.latest_inspection
    return ProviderSnapshot(
        provider_id=provider.provider_id,
        urn=details.urn,
        name=details.name,
        proprietor=details.proprietor,
        provider_type=details.provider_type,
        section_41_approved=details.section_41_approved,
        status=provider.status,
        age_low=details.age_low,
        age_high=details.age_high,
        gender_intake=details.gender_intake,
        attendance=sorted(details.attendance),
        need_types=sorted(details.need_types),
        capacity=details.capacity,
        places_in_use=details.places_in_use,
        location=Location(
            postcode=details.postcode,
            postcode_district=postcode_district(details.postcode) or "",
            latitude=details.latitude,
            longitude=details.longitude,
        ),
        documents=[DocumentSummary(kind=d.kind, expires_on=d.expires_on) for d in documents],
        documents_valid=check_documents(documents, today).all_valid,
        latest_inspection=inspection_summary(latest) if latest else None,
        local_authority_code=details.local_authority_code,
    )


def registered_event(provider: Provider, today: date, by: str) -> ProviderRegistered:
    return ProviderRegistered(provider=provider_snapshot(provider, today), registered_by=by)


def updated_event(
    provider: Provider, changed_fields: list[str], today: date, by: str
) -> ProviderUpdated:
    return ProviderUpdated(
        provider=provider_snapshot(provider, today),
        changed_fields=changed_fields,
        updated_by=by,
    )


def status_changed_event(provider: Provider, change: StatusChange) -> ProviderStatusChanged:
    return ProviderStatusChanged(
        provider_id=provider.provider_id,
        urn=provider.details.urn,
        name=provider.details.name,
        previous_status=change.previous_status,
        status=change.status,
        changed_by=change.changed_by,
        changed_at=change.changed_at,
        reason=change.reason,
        recommendation_id=change.recommendation_id,
    )


def recommendation_rejected_event(
    recommendation: SuspensionRecommendation,
) -> ProviderRecommendationRejected:
    """A rejected recommendation, for monitoring to close its own (accepted ones show as
    provider.status_changed citing the recommendation)."""
    by, at = recommendation.decided_by, recommendation.decided_at
    if recommendation.status is not RecommendationStatus.REJECTED or by is None or at is None:
        raise DomainError("status", "only a rejected recommendation is told as rejected")
    return ProviderRecommendationRejected(
        provider_id=recommendation.provider_id,
        recommendation_id=recommendation.recommendation_id,
        rejected_by=by,
        rejected_at=at,
        reason=recommendation.decision_reason or "",
    )


def inspection_recorded_event(
    provider: Provider, outcome: InspectionRecorded
) -> ProviderInspectionRecorded:
    previous = outcome.previous
    return ProviderInspectionRecorded(
        provider_id=provider.provider_id,
        urn=provider.details.urn,
        name=provider.details.name,
        previous=inspection_summary(previous) if previous else None,
        new=inspection_summary(outcome.new),
        declined=outcome.declined,
        is_latest=outcome.is_latest,
    )


def document_expiring_events(
    provider: Provider, today: date, warning_days: int = DOCUMENT_WARNING_DAYS
) -> list[ProviderDocumentExpiring]:
    """One event per current document that has expired or expires within the window.

    The caller decides how often to emit (e.g. once a day, or only on a change).
    """
    check = check_documents(provider.details.documents, today, warning_days)
    return [
        ProviderDocumentExpiring(
            provider_id=provider.provider_id,
            urn=provider.details.urn,
            name=provider.details.name,
            kind=document.kind,
            expires_on=document.expires_on,
            days_until_expiry=(document.expires_on - today).days,
            expired=document.expires_on < today,
            documents_valid=check.all_valid,
        )
        for document in (*check.expired, *check.expiring_soon)
    ]


# --- people: self-registration, membership, invitations (issue 15) --------------------
# A supplier's person signs in with role ``supplier`` (bound to no provider) and either
# claims a provider already on the register by its URN, or registers a new one. Either
# way a commissioner verifies the registration before the person is bound to a provider:
# anyone can type a URN, and only a verified provider may apply to or bid on the council's
# dynamic market (the council checks a supplier before admitting it: Procurement Act 2023
# ss.35-36, conditions of membership). The verified person becomes the organisation's
# administrator, who invites the others.


class RegistrationKind(StrEnum):
    CLAIM = "claim"  # "we are this provider on the register" (by URN)
    NEW = "new"  # a provider not yet on the register


class RegistrationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class MemberRole(StrEnum):
    ADMINISTRATOR = "administrator"  # manages the organisation's people
    MEMBER = "member"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


# An invitation is a bearer secret: it is good for a fortnight, then the administrator
# sends another (a code forwarded long ago should not still open the account).
INVITATION_DAYS = 14
# Independent schools must be on the DfE register (Education and Skills Act 2008 s.96);
# the URN is that register's number (Get Information About Schools), so a provider
# goes on this register with one: a new provider without one gets it from the officer.
URN_NEEDED = "required to put a new provider on the register (its DfE URN)"
REASON_NEEDED = "must say why: the person is told the reason"


def validate_person(name: str, email: str) -> list[DomainError]:
    """The registering person's name and e-mail, which the council uses to check them."""
    errors = _check_text("person_name", name)
    if not isinstance(email, str) or not _EMAIL_RE.fullmatch(email.strip()):
        errors.append(DomainError("person_email", "must be an e-mail address"))
    return errors


def validate_new_provider(draft: ProviderDraft, urn_given: bool) -> list[DomainError]:
    """A new provider's details as its person enters them: every register rule, except
    that the URN may be left out (the officer supplies it when verifying)."""
    errors = validate_draft(draft)
    if not urn_given:
        errors = [e for e in errors if e.field != "urn"]
    return errors


def decide_registration(
    status: RegistrationStatus, verify: bool, reason: str
) -> RegistrationStatus:
    """The registration's status after an officer's decision; only a pending one may be
    decided (IllegalTransition), and a rejection must give its reason."""
    if status is not RegistrationStatus.PENDING:
        raise IllegalTransition("status", status, "decided again")
    if not verify and not (isinstance(reason, str) and reason.strip()):
        raise RulesBroken([DomainError("reason", REASON_NEEDED)])
    return RegistrationStatus.VERIFIED if verify else RegistrationStatus.REJECTED


def invitation_problem(
    expires_at: datetime, accepted_at: datetime | None, now: datetime
) -> str | None:
    """Why an invitation cannot be accepted now (None: it can)."""
    if accepted_at is not None:
        return "has been used already; ask your organisation's administrator for another"
    if now >= expires_at:
        return f"has expired (invitations last {INVITATION_DAYS} days); ask for another"
    return None


def invitation_expiry(now: datetime) -> datetime:
    return now + timedelta(days=INVITATION_DAYS)


# Someone must always be able to manage the organisation's people (invite, remove, hand
# over): without an administrator only the council could, by hand. So the last
# administrator can neither leave, be removed nor step down; they hand over first.
LAST_ADMINISTRATOR = (
    "the organisation must keep at least one administrator: make another person administrator first"
)


def people_change_problem(
    administrators: int, was_administrator: bool, stays_administrator: bool
) -> str | None:
    """Why removing a person, or changing their role, would break the one-administrator
    rule (None: it would not). `administrators` counts the active ones now."""
    if was_administrator and not stays_administrator and administrators <= 1:
        return LAST_ADMINISTRATOR
    return None


# --- document files ----------------------------------------------------------------------
# What a provider may upload as a compliance document, told by its first bytes (magic
# numbers), never by the name or the declared type: a renamed executable is refused.

MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
TYPE_LABELS: dict[str, str] = {
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
    "docx": "Word (DOCX)",
    "odt": "OpenDocument text (ODT)",
}
ZIP_MAGIC = b"PK\x03\x04"
# An ODF package starts with an uncompressed entry "mimetype" holding the media type
# (OASIS ODF 1.2 part 3, section 3.3), so its first bytes name it.
ODT_HEAD = b"mimetypeapplication/vnd.oasis.opendocument.text"
FILENAME_MAX = 120
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")


def sniff_type(head: bytes, zip_names: Iterable[str] = ()) -> str | None:
    """The short name (a key of MEDIA_TYPES) of a file starting with `head`, or None.
    A ZIP is a DOCX when it holds ``[Content_Types].xml`` and ``word/document.xml``."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(ZIP_MAGIC):
        if head[30:].startswith(ODT_HEAD):
            return "odt"
        names = set(zip_names)
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
    return None


def allowed_types_text(allowed: Iterable[str]) -> str:
    """'PDF, PNG or JPEG': the allowed types in words, for errors and hints."""
    labels = [TYPE_LABELS[name] for name in allowed]
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


# The extensions a type's file may keep; any other is replaced by the first.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf",),
    "png": ("png",),
    "jpeg": ("jpg", "jpeg"),
    "docx": ("docx",),
    "odt": ("odt",),
}


def safe_filename(given: str | None, type_name: str) -> str:
    """The uploaded name without any path, with only plain characters (it goes back out
    in a Content-Disposition header), ending in an extension of the type its bytes are:
    a PDF named ``x.exe`` is kept as ``x.pdf``."""
    base = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_FILENAME.sub("_", base).strip(" .")
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    allowed = EXTENSIONS[type_name]
    if extension.lower() not in allowed:
        extension = allowed[0]  # missing, or not what the bytes are: the type's own
    stem = stem[:FILENAME_MAX].strip(" .") or "document"
    return f"{stem}.{extension.lower()}"
