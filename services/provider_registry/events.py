"""Domain results -> providers.v1 payloads, in one place."""

from __future__ import annotations

from datetime import date

from services.provider_registry.domain import (
    DOCUMENT_WARNING_DAYS,
    Inspection,
    InspectionRecorded,
    Provider,
    RecommendationStatus,
    StatusChange,
    SuspensionRecommendation,
    check_documents,
    current_documents,
    equivalent_judgement,
)
from shared.contracts.providers_v1 import (
    DocumentSummary,
    InspectionSummary,
    Location,
    ProviderDocumentExpiring,
    ProviderInspectionRecorded,
    ProviderRecommendationRejected,
    ProviderRegistered,
    ProviderSnapshot,
    ProviderStatusChanged,
    ProviderUpdated,
)
from shared.errors import DomainError
from shared.geography import postcode_district

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
