"""The provider record: draft validation, postcodes and distances, the status machine,
GIAS closures and recording an inspection against the provider."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from enum import StrEnum

from services.provider_registry.domain._rules import (
    EMAIL_RE,
    IllegalTransition,
    ProviderInvalid,
    check_actor,
    check_text,
)
from services.provider_registry.domain.inspections import (
    Inspection,
    is_decline,
    validate_inspection,
)
from shared.contracts.common import Attendance, NeedType
from shared.contracts.providers_v1 import (
    DocumentKind,
    GenderIntake,
    ProviderStatus,
    ProviderType,
)
from shared.errors import DomainError
from shared.geography import Point, normalise_postcode

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
    errors = check_text(f"{prefix}.name", contact.name)
    if contact.email is not None and not EMAIL_RE.match(contact.email):
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
    errors += check_text("name", draft.name)
    errors += check_text("proprietor", draft.proprietor)
    errors += check_text("address", draft.address, max_length=500)
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
    check_actor(by, at, reason)
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
