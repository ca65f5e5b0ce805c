"""Loaders, queries and locks of the register: rows in, rows out (no rule, no event)."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Text, and_, cast, func
from sqlalchemy import select as select_columns  # plain columns, no ORM row
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.provider_registry import domain
from services.provider_registry.models import (
    DocumentFileRow,
    InspectionRow,
    InvitationRow,
    MembershipRow,
    ProviderRow,
    RecommendationRow,
    RegisterVersionRow,
    RegistrationRow,
    StatusChangeRow,
    provider_of,
)
from shared.contracts.providers_v1 import DocumentKind
from shared.errors import NotFound

# --- providers --------------------------------------------------------------------------


async def load_provider(session: AsyncSession, provider_id: str) -> ProviderRow:
    """The provider's row (404 when there is none)."""
    row = await session.get(ProviderRow, provider_id)
    if row is None:
        raise NotFound("provider", provider_id)
    return row


async def provider_by_urn(session: AsyncSession, urn: int) -> ProviderRow | None:
    return (await session.exec(select(ProviderRow).where(ProviderRow.urn == urn))).first()


async def inspections_of(session: AsyncSession, provider_id: str) -> list[InspectionRow]:
    """The inspection history, newest inspection first."""
    rows = await session.exec(
        select(InspectionRow)
        .where(InspectionRow.provider_id == provider_id)
        .order_by(col(InspectionRow.inspected_on).desc(), col(InspectionRow.id).desc())
    )
    return list(rows.all())


async def status_changes_of(session: AsyncSession, provider_id: str) -> list[StatusChangeRow]:
    """Who changed the provider's status, when and why, oldest first."""
    rows = await session.exec(
        select(StatusChangeRow)
        .where(StatusChangeRow.provider_id == provider_id)
        .order_by(col(StatusChangeRow.id))
    )
    return list(rows.all())


# --- search -----------------------------------------------------------------------------


def _filtered(query: Any, search: domain.ProviderSearch) -> Any:
    """Every non-distance criterion as SQL, so only candidates leave the database."""
    conditions = [col(ProviderRow.need_codes).contains(f",{n.value},") for n in search.need_types]
    if search.age is not None:
        conditions += [
            col(ProviderRow.age_low) <= search.age,
            col(ProviderRow.age_high) >= search.age,
        ]
    if search.attendance is not None:
        conditions.append(col(ProviderRow.attendance_codes).contains(f",{search.attendance},"))
    if search.statuses:
        conditions.append(col(ProviderRow.status).in_([s.value for s in search.statuses]))
    if search.minimum_judgement is not None:
        rank = domain.judgement_rank(search.minimum_judgement)
        conditions.append(col(ProviderRow.judgement_rank) <= rank)
    if search.near is not None and search.within_km is not None:
        box = _bounding_box(search.near, search.within_km)
        if box is not None:
            conditions.append(box)
    return query.where(and_(*conditions)) if conditions else query


def _bounding_box(point: domain.Point, km: float) -> Any:
    """A lat/lon box holding every point within `km` of `point` (great-circle, on the
    haversine's sphere): cheap to test in SQL and usable by the (latitude, longitude)
    index; the exact distance is checked in Python on what it lets through. None when
    the circle reaches a pole or the antimeridian (no box is then smaller than the world).
    """
    reach = km / domain.EARTH_RADIUS_KM  # angular radius, radians
    if reach >= math.pi / 2:
        return None
    lat = math.radians(point.latitude)
    lat_delta = math.degrees(reach) * (1 + _SLACK) + _SLACK
    if abs(point.latitude) + lat_delta >= 90:
        return None
    # The circle's widest longitude (at a latitude poleward of the centre's).
    lon_delta = math.degrees(math.asin(math.sin(reach) / math.cos(lat))) * (1 + _SLACK) + _SLACK
    if abs(point.longitude) + lon_delta >= 180:
        return None
    return and_(
        col(ProviderRow.latitude).between(point.latitude - lat_delta, point.latitude + lat_delta),
        col(ProviderRow.longitude).between(
            point.longitude - lon_delta, point.longitude + lon_delta
        ),
    )


# Relative and absolute (degrees) margin on the box: rounding in the box's own
# arithmetic must never shut out a point the exact distance lets in.
_SLACK = 1e-9

# What a search answer shows of a provider: its record, not the row's search helpers. The
# JSON columns are read as their stored text, which keys the providers already built.
_RECORD: tuple[Any, ...] = (
    col(ProviderRow.id),
    col(ProviderRow.status),
    cast(col(ProviderRow.details), Text),
    cast(col(ProviderRow.latest_inspection), Text),
)

# Providers built from a search's columns, by those columns as stored: a record that
# changed has other text and is built afresh, so nothing stale is ever answered, while
# the unchanged records of a repeated search skip decoding and validating their JSON
# (about a third of a search's CPU). Bounded; emptied when full.
_built: dict[tuple[str, str, str, str | None], domain.Provider] = {}
_BUILT_MAX = 2048

Hit = tuple[domain.Provider, float | None]


async def _records(session: AsyncSession, query: Any) -> dict[str, domain.Provider]:
    """Providers by id from plain columns (no ORM row is built for a read)."""
    rows = await session.execute(query)
    return {row[0]: _provider(tuple(row)) for row in rows}


def _provider(stored: tuple[str, str, str, str | None]) -> domain.Provider:
    provider = _built.get(stored)
    if provider is None:
        provider_id, status, details, latest = stored
        # A JSON null is stored as the text "null": it decodes to no inspection.
        inspection = json.loads(latest) if latest is not None else None
        provider = provider_of(provider_id, status, json.loads(details), inspection)
        if len(_built) >= _BUILT_MAX:
            _built.clear()
        _built[stored] = provider
    return provider


RegisterState = tuple[str, int]  # (epoch, version): see models.RegisterVersionRow


async def register_state(session: AsyncSession) -> RegisterState | None:
    """The register's version (None if its row is missing): read it before the pages it
    keys, so that a page is never older than the version it is kept under."""
    row = (
        await session.execute(
            select_columns(col(RegisterVersionRow.epoch), col(RegisterVersionRow.version))
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def page_by_name(
    session: AsyncSession, search: domain.ProviderSearch, limit: int, offset: int
) -> tuple[int, list[Hit]]:
    total_query = _filtered(select(func.count()).select_from(ProviderRow), search)
    total = int((await session.exec(total_query)).one())
    query = (
        _filtered(select_columns(*_RECORD), search)
        .order_by(col(ProviderRow.name), col(ProviderRow.id))
        .limit(limit)
        .offset(offset)
    )
    return total, [(provider, None) for provider in (await _records(session, query)).values()]


async def page_by_distance(
    session: AsyncSession, search: domain.ProviderSearch, limit: int, offset: int
) -> tuple[int, list[Hit]]:
    """Located providers within the radius, nearest first (then by name and id): the
    box prefilter in SQL, the exact distance here, then only the page's records read."""
    assert search.near is not None
    candidates = await session.execute(
        _filtered(
            select_columns(
                col(ProviderRow.id),
                col(ProviderRow.name),
                col(ProviderRow.latitude),
                col(ProviderRow.longitude),
            ),
            search,
        ).where(col(ProviderRow.latitude).is_not(None), col(ProviderRow.longitude).is_not(None))
    )
    ranked = []
    near, within = search.near, search.within_km
    for provider_id, name, latitude, longitude in candidates:
        distance = domain.distance_km(near, domain.Point(latitude, longitude))
        if within is None or distance <= within:
            ranked.append((distance, name, provider_id))
    ranked.sort()
    page = ranked[offset : offset + limit]
    found = await _records(
        session, select_columns(*_RECORD).where(col(ProviderRow.id).in_([p for _, _, p in page]))
    )
    return len(ranked), [(found[pid], distance) for distance, _, pid in page]


# --- recommendations --------------------------------------------------------------------


async def recommendations(
    session: AsyncSession,
    status: domain.RecommendationStatus | None,
    provider_id: str | None,
) -> list[RecommendationRow]:
    """Suspension recommendations from monitoring, oldest first."""
    query = select(RecommendationRow).order_by(
        col(RecommendationRow.recommended_at), col(RecommendationRow.id)
    )
    if status is not None:
        query = query.where(RecommendationRow.status == status.value)
    if provider_id is not None:
        query = query.where(RecommendationRow.provider_id == provider_id)
    return list((await session.exec(query)).all())


async def load_recommendation(session: AsyncSession, recommendation_id: str) -> RecommendationRow:
    row = await session.get(RecommendationRow, recommendation_id)
    if row is None:
        raise NotFound("recommendation", recommendation_id)
    return row


# --- people -----------------------------------------------------------------------------


async def active_membership(session: AsyncSession, subject: str) -> MembershipRow | None:
    """The person's membership that binds its tokens (one provider per person)."""
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.subject == subject,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    return rows.first()


async def administrator_of(session: AsyncSession, provider_id: str) -> MembershipRow | None:
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.provider_id == provider_id,
            MembershipRow.role == domain.MemberRole.ADMINISTRATOR.value,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    return rows.first()


async def person_of(session: AsyncSession, provider_id: str, subject: str) -> MembershipRow:
    """The provider's active person `subject` (404 otherwise: removed or never joined)."""
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.provider_id == provider_id,
            MembershipRow.subject == subject,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    found = rows.first()
    if found is None:
        raise NotFound("person", subject)
    return found


async def administrators(session: AsyncSession, provider_id: str) -> int:
    """How many active administrators the provider has."""
    rows = await session.exec(
        select(MembershipRow.id).where(
            MembershipRow.provider_id == provider_id,
            MembershipRow.role == domain.MemberRole.ADMINISTRATOR.value,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    return len(rows.all())


async def competing_registrations(session: AsyncSession, row: RegistrationRow) -> int:
    """Other registrations awaiting the council for the same URN."""
    if row.urn is None or row.status != domain.RegistrationStatus.PENDING.value:
        return 0
    total = await session.exec(
        select(func.count())
        .select_from(RegistrationRow)
        .where(
            RegistrationRow.urn == row.urn,
            RegistrationRow.status == domain.RegistrationStatus.PENDING.value,
            RegistrationRow.id != row.id,
        )
    )
    return int(total.one())


async def registrations_of(session: AsyncSession, subject: str) -> list[RegistrationRow]:
    """The person's own registrations, newest first."""
    rows = await session.exec(
        select(RegistrationRow)
        .where(RegistrationRow.subject == subject)
        .order_by(col(RegistrationRow.submitted_at).desc(), col(RegistrationRow.id))
    )
    return list(rows.all())


async def registrations_page(
    session: AsyncSession, status: domain.RegistrationStatus | None, limit: int, offset: int
) -> tuple[int, list[RegistrationRow]]:
    """Registrations (of one status, or all), oldest first, and how many there are."""
    query = select(RegistrationRow)
    counted = select(func.count()).select_from(RegistrationRow)
    if status is not None:
        query = query.where(RegistrationRow.status == status.value)
        counted = counted.where(RegistrationRow.status == status.value)
    total = int((await session.exec(counted)).one())
    rows = await session.exec(
        query.order_by(col(RegistrationRow.submitted_at), col(RegistrationRow.id))
        .limit(limit)
        .offset(offset)
    )
    return total, list(rows.all())


async def memberships_of(session: AsyncSession, subject: str) -> list[tuple[MembershipRow, str]]:
    """The person's active memberships with their providers' names."""
    rows = await session.exec(
        select(MembershipRow, ProviderRow.name)
        .join(ProviderRow, col(ProviderRow.id) == col(MembershipRow.provider_id))
        .where(
            MembershipRow.subject == subject,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
        .order_by(col(MembershipRow.id))
    )
    return list(rows.all())


async def people_of(session: AsyncSession, provider_id: str) -> list[MembershipRow]:
    rows = await session.exec(
        select(MembershipRow)
        .where(MembershipRow.provider_id == provider_id)
        .order_by(col(MembershipRow.id))
    )
    return list(rows.all())


async def open_invitations(session: AsyncSession, provider_id: str) -> list[InvitationRow]:
    """The provider's invitations not yet accepted, oldest first."""
    rows = await session.exec(
        select(InvitationRow)
        .where(
            InvitationRow.provider_id == provider_id,
            col(InvitationRow.accepted_at).is_(None),
        )
        .order_by(col(InvitationRow.invited_at))
    )
    return list(rows.all())


# --- document files ---------------------------------------------------------------------


async def latest_document_file(
    session: AsyncSession, provider_id: str, kind: DocumentKind
) -> DocumentFileRow | None:
    """The newest uploaded file of this kind (the one an officer verifies)."""
    rows = await session.exec(
        select(DocumentFileRow)
        .where(DocumentFileRow.provider_id == provider_id, DocumentFileRow.kind == kind.value)
        .order_by(col(DocumentFileRow.uploaded_at).desc(), col(DocumentFileRow.id))
        .limit(1)
    )
    return rows.first()


async def newest_document_files(session: AsyncSession, provider_id: str) -> list[DocumentFileRow]:
    """The newest uploaded file of each kind, without its bytes."""
    rows = await session.exec(
        select(DocumentFileRow)
        .options(defer(DocumentFileRow.content))  # type: ignore[arg-type]
        .where(DocumentFileRow.provider_id == provider_id)
        .order_by(col(DocumentFileRow.uploaded_at).desc(), col(DocumentFileRow.id))
    )
    newest: dict[str, DocumentFileRow] = {}
    for row in rows.all():
        newest.setdefault(row.kind, row)
    return list(newest.values())
