"""Searching the register: filters, distance and nearest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.provider_registry.domain._rules import ProviderInvalid
from services.provider_registry.domain.inspections import meets_minimum
from services.provider_registry.domain.providers import AGE_RANGE, Provider, distance_km
from shared.contracts.common import Attendance, NeedType
from shared.contracts.providers_v1 import (
    OfstedJudgement,
    ProviderStatus,
)
from shared.errors import DomainError
from shared.geography import Point

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
