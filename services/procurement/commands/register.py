"""Following the provider register (providers.v1): our own snapshot of each provider, and
its memberships suspended, ended or reinstated when the register says so."""

from __future__ import annotations

from services.procurement import domain as d
from services.procurement import events
from services.procurement.commands._actors import REGISTER
from services.procurement.models import (
    MembershipHistoryRow,
    MembershipRow,
    ProviderRow,
    apply_membership,
    bid_to_domain,
    membership_to_domain,
)
from services.procurement.store import (
    open_competitions_of,
    provider_live_bid_rows,
    provider_memberships,
)
from shared import geography
from shared.contracts import providers_v1
from shared.contracts.providers_v1 import ProviderStatus
from shared.infra_models import utcnow
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date


def _grid(snapshot: providers_v1.ProviderSnapshot) -> d.GridPoint | None:
    loc = snapshot.location
    if loc.latitude is not None and loc.longitude is not None:
        return d.GridPoint(*geography.wgs84_to_bng(loc.latitude, loc.longitude))
    return district_centroid(loc.postcode_district)


def district_centroid(district: str) -> d.GridPoint | None:
    """Grid position of a postcode district's centroid (None if unknown)."""
    grid = geography.district_grid(district)
    return d.GridPoint(*grid) if grid else None


def _apply_snapshot(row: ProviderRow, s: providers_v1.ProviderSnapshot) -> None:
    point = _grid(s)
    row.urn, row.name, row.status = s.urn, s.name, s.status.value
    row.need_types = [n.value for n in s.need_types]
    row.attendance = [a.value for a in s.attendance]
    row.age_low, row.age_high = s.age_low, s.age_high
    row.latitude, row.longitude = s.location.latitude, s.location.longitude
    row.easting = point.easting if point else None
    row.northing = point.northing if point else None
    row.postcode_district = s.location.postcode_district
    row.documents = [
        {"kind": doc.kind.value, "expires_on": doc.expires_on.isoformat()} for doc in s.documents
    ]
    row.documents_valid = s.documents_valid
    row.updated_at = utcnow()


async def record_provider_snapshot(
    uow: UnitOfWork, snapshot: providers_v1.ProviderSnapshot
) -> None:
    """A provider registered or updated: keep its snapshot; follow a change of status."""
    row = await uow.session.get(ProviderRow, snapshot.provider_id)
    previous = row.status if row else None
    if row is None:
        row = ProviderRow(provider_id=snapshot.provider_id, status=snapshot.status.value)
    _apply_snapshot(row, snapshot)
    uow.session.add(row)
    if previous != snapshot.status.value:
        await follow_register_status(uow, snapshot.provider_id, snapshot.status, "register update")


async def record_provider_status(
    uow: UnitOfWork, provider_id: str, status: ProviderStatus, reason: str
) -> None:
    """The register changed a provider's status: store it and follow it."""
    row = await uow.session.get(ProviderRow, provider_id)
    if row is None:  # status before registration (never in order); keep what we learn
        row = ProviderRow(
            provider_id=provider_id,
            status=status.value,
            need_types=[],
            attendance=[],
            documents=[],
            updated_at=utcnow(),
        )
    row.status = status.value
    row.updated_at = utcnow()
    uow.session.add(row)
    await uow.session.flush()
    await follow_register_status(uow, provider_id, status, reason)


async def record_document_expiring(
    uow: UnitOfWork, payload: providers_v1.ProviderDocumentExpiring
) -> None:
    row = await uow.session.get(ProviderRow, payload.provider_id)
    if row is None:
        return
    # The expiry dates themselves decide admission and bids (checked on the day); the
    # register's summary flag is kept for display.
    docs = [doc for doc in row.documents if doc["kind"] != payload.kind.value]
    docs.append({"kind": payload.kind.value, "expires_on": payload.expires_on.isoformat()})
    row.documents = docs
    row.documents_valid = payload.documents_valid
    row.updated_at = utcnow()
    uow.session.add(row)


async def follow_register_status(
    uow: UnitOfWork, provider_id: str, status: ProviderStatus, reason: str
) -> None:
    """Suspended in the register: memberships suspended; removed: ended; active again:
    memberships suspended by the register reinstated (never those a commissioner suspended)."""
    rows = await provider_memberships(uow, provider_id)
    today = london_date(utcnow())
    why = f"register: provider {status.value} ({reason})"
    for row in rows:
        m = membership_to_domain(row)
        changed: d.Membership | None = None
        if status is ProviderStatus.SUSPENDED and m.status is d.MembershipStatus.ACTIVE:
            changed = d.suspend_membership(m, why, REGISTER.id, today)
        elif status is ProviderStatus.REMOVED and m.status is not d.MembershipStatus.ENDED:
            changed = d.end_membership(m, why, REGISTER.id, today)
        elif (
            status is ProviderStatus.ACTIVE
            and m.status is d.MembershipStatus.SUSPENDED
            and m.status_changed_by == REGISTER.id
        ):
            changed = d.reinstate_membership(m, why, REGISTER.id, today)
        if changed is not None:
            record_membership_change(uow, row, changed)
            await set_aside_open_bids(uow, changed)


async def set_aside_open_bids(uow: UnitOfWork, m: d.Membership) -> list[str]:
    """A member no longer active: set aside its live bids in the open call-offs of its
    category at once, with the reason (see d.SUSPENDED_BIDS_SOURCE); returns bid ids."""
    if m.status is d.MembershipStatus.ACTIVE:
        return []
    done: list[str] = []
    for row in await open_competitions_of(uow, m.scheme_id, m.category_code):
        bids = await provider_live_bid_rows(uow, row, m.provider_id)
        aside = d.bids_set_aside_by(m, [bid_to_domain(b) for b in bids])
        known = {s["bid_id"] for s in row.set_aside or []}
        row.set_aside = [
            *(row.set_aside or []),
            *(
                {
                    "bid_id": n.bid_id,
                    "provider_id": n.provider_id,
                    "reason": n.reason,
                    "round": row.round,
                }
                for n in aside
                if n.bid_id not in known
            ),
        ]
        uow.session.add(row)
        done += [n.bid_id for n in aside]
    return done


def record_membership_change(uow: UnitOfWork, row: MembershipRow, m: d.Membership) -> None:
    """Store a membership's new status, its history line, its event and its audit."""
    apply_membership(row, m)
    uow.session.add(row)
    assert row.id is not None and m.status_reason and m.status_changed_by and m.status_changed_on
    uow.session.add(
        MembershipHistoryRow(
            membership_id=row.id,
            status=m.status.value,
            reason=m.status_reason,
            changed_by=m.status_changed_by,
            changed_at=utcnow(),
        )
    )
    uow.emit(events.membership_changed(m))
    actor = Actor(id=m.status_changed_by, role="service")
    uow.audit(
        actor, f"membership.{m.status.value}", "membership", str(row.id), reason=m.status_reason
    )
