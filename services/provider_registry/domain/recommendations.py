"""Suspension recommendations from monitoring: receive, accept or reject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.provider_registry.domain._rules import IllegalTransition, ProviderInvalid, check_actor
from services.provider_registry.domain.providers import Provider, StatusChange, change_status
from shared.contracts.providers_v1 import (
    ProviderStatus,
)
from shared.errors import DomainError

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
    check_actor(by, at, reason)
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
