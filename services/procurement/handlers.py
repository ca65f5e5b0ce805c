"""Kafka subscribers of procurement, and the writes both entrances (events and HTTP) share.

providers.v1 keeps our own snapshot of each provider (status, needs, ages, attendance,
grid position, documents); a provider suspended or removed in the register has its
memberships suspended or ended, so it is neither invited nor able to bid.
placements.v1 ``placement.need.raised`` opens an individual-placement call-off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select, update

from services.procurement import domain as d
from services.procurement.models import (
    ApplicationRow,
    BidRow,
    CompetitionRow,
    InvitationRow,
    MembershipHistoryRow,
    MembershipRow,
    ProviderRow,
    SchemeRow,
    SelfDeclarationRow,
    apply_membership,
    bid_to_domain,
    competition_row,
    competition_to_domain,
    documents_to_domain,
    invitation_row,
    membership_to_domain,
    provider_to_domain,
    scheme_to_domain,
)
from shared import geography
from shared.contracts import placements_v1, procurement_v1, providers_v1
from shared.contracts.providers_v1 import ProviderStatus
from shared.envelope import Envelope
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date

log = get_logger(__name__)

REGISTER = Actor(id="dps/procurement/providers.v1", role="service")
NEEDS = Actor(id="dps/procurement/placements.v1", role="service")
# Individual call-offs opened from a need apply the scheme's published award criteria
# (reg 34(23)-(24), reg 76(4)); their age/distance screening only where the scheme may.

# ------------------------------------------------------------------ shared loads


async def load_memberships(uow: UnitOfWork, scheme_id: str) -> list[d.Membership]:
    rows = await uow.session.exec(select(MembershipRow).where(MembershipRow.scheme_id == scheme_id))
    return [membership_to_domain(r) for r in rows.all()]


async def load_providers(
    uow: UnitOfWork, provider_ids: Sequence[str]
) -> tuple[dict[str, d.ProviderSnapshot], dict[str, tuple[d.ComplianceDocument, ...]]]:
    rows = (
        await uow.session.exec(
            select(ProviderRow).where(col(ProviderRow.provider_id).in_(list(provider_ids)))
        )
    ).all()
    return (
        {r.provider_id: provider_to_domain(r) for r in rows},
        {r.provider_id: documents_to_domain(r) for r in rows},
    )


async def lock(
    uow: UnitOfWork,
    model: type[CompetitionRow] | type[ApplicationRow] | type[SelfDeclarationRow],
    row_id: str,
) -> None:
    """Take the row's write lock before reading it, so the deadline activity, a bid and
    an award (or a decision and the clock) never interleave. A no-op UPDATE does this on
    PostgreSQL and SQLite alike; on SQLite it also takes the write lock up front, where a
    read-then-write transaction would fail at once with "database is locked"."""
    key = col(model.id)
    await uow.session.exec(update(model).where(key == row_id).values(id=key))


async def load_invitations(uow: UnitOfWork, competition_id: str) -> list[InvitationRow]:
    rows = await uow.session.exec(
        select(InvitationRow)
        .where(InvitationRow.competition_id == competition_id)
        .order_by(col(InvitationRow.id))
    )
    return list(rows.all())


# ----------------------------------------------------------- event payload helpers


def filter_info(f: d.FilterCriteria) -> procurement_v1.FilterInfo:
    return procurement_v1.FilterInfo(
        need_type=f.need_type,
        attendance=f.attendance,
        min_age=f.min_age,
        max_age=f.max_age,
        max_distance_km=f.max_distance_km,
        origin_easting=f.origin.easting if f.origin else None,
        origin_northing=f.origin.northing if f.origin else None,
    )


def emit_invitations(
    uow: UnitOfWork, c: d.Competition, invitations: Sequence[d.Invitation]
) -> None:
    for i in invitations:
        uow.session.add(invitation_row(c.competition_id, i))
        uow.emit_raw(
            procurement_v1.TOPIC,
            procurement_v1.ProviderInvited.TYPE,
            c.competition_id,
            procurement_v1.ProviderInvited(
                competition_id=c.competition_id,
                scheme_id=c.scheme_id,
                provider_id=i.provider_id,
                round=i.round,
                lot_code=i.lot_code,
                reason=i.reason.value,
                invited_at=i.invited_at,
                deadline_at=c.deadline_at,
            ),
        )


def emit_no_eligible(uow: UnitOfWork, c: d.Competition, now: datetime) -> None:
    screened = [s for s in c.screenings if s.round == c.round]
    reasons = [f"{s.provider_id}: {'; '.join(s.reasons)}" for s in screened if not s.eligible]
    reasons += [t.reason for t in c.tier_steps if t.round == c.round and not t.consulted]
    uow.emit_raw(
        procurement_v1.TOPIC,
        procurement_v1.CompetitionNoEligibleMembers.TYPE,
        c.competition_id,
        procurement_v1.CompetitionNoEligibleMembers(
            competition_id=c.competition_id,
            scheme_id=c.scheme_id,
            category_code=c.spec.category_code,
            round=c.round,
            need_ref=c.spec.need_ref,
            filter=filter_info(c.spec.filter),
            members_screened=len(screened),
            reasons=reasons or ["the category has no members"],
            detected_at=now,
        ),
    )


# ------------------------------------------------------------ opening a call-off


async def open_call_off(
    uow: UnitOfWork,
    scheme: d.Scheme,
    spec: d.CompetitionSpec,
    *,
    deadline_at: datetime,
    urgent_reason: str | None,
    actor: Actor,
    now: datetime,
) -> d.Competition:
    """Open a call-off inviting every eligible member of the first tier that has any.

    With nobody eligible the competition is kept (status ``no_eligible_members``, with
    the screening evidence) and the alert is emitted instead of ``opened``.
    """
    memberships = await load_memberships(uow, scheme.scheme_id)
    providers, documents = await load_providers(uow, [m.provider_id for m in memberships])
    c = d.open_competition(
        scheme,
        spec,
        deadline_at=deadline_at,
        memberships=memberships,
        providers=providers,
        documents=documents,
        now=now,
        urgent_reason=urgent_reason,
    )
    uow.session.add(competition_row(c))
    await uow.session.flush()  # invitations reference the competition
    if c.status is d.CompetitionStatus.NO_ELIGIBLE_MEMBERS:
        emit_no_eligible(uow, c, now)
        uow.audit(actor, "competition.no_eligible_members", "competition", c.competition_id)
        return c
    uow.emit_raw(
        procurement_v1.TOPIC,
        procurement_v1.CompetitionOpened.TYPE,
        c.competition_id,
        procurement_v1.CompetitionOpened(
            competition_id=c.competition_id,
            scheme_id=c.scheme_id,
            category_code=spec.category_code,
            kind=spec.kind.value,
            title=spec.title,
            places=spec.places,
            term_start=spec.term_start,
            term_end=spec.term_end,
            need_ref=spec.need_ref,
            filter=filter_info(spec.filter),
            quality_weight=spec.quality_weight,
            price_weight=spec.price_weight,
            lot_code=c.current_lot,
            opened_at=now,
            deadline_at=c.deadline_at,
            urgent_reason=c.urgent_reason,
            invited_count=len(c.invitations),
            opened_by=actor.id,
        ),
    )
    emit_invitations(uow, c, c.invitations)
    uow.audit(
        actor,
        "competition.opened",
        "competition",
        c.competition_id,
        invited=[i.provider_id for i in c.invitations],
        lot=c.current_lot,
    )
    return c


async def invite_late_joiners(
    uow: UnitOfWork, scheme: d.Scheme, memberships: Sequence[d.Membership], now: datetime
) -> list[str]:
    """Invite newly admitted members to open call-offs of their category (reg 34: all
    members are invited) when enough of the tender period is left; returns competition ids."""
    invited_to: list[str] = []
    providers, documents = await load_providers(uow, [m.provider_id for m in memberships])
    for m in memberships:
        rows = await uow.session.exec(
            select(CompetitionRow).where(
                CompetitionRow.scheme_id == scheme.scheme_id,
                CompetitionRow.category_code == m.category_code,
                CompetitionRow.status == d.CompetitionStatus.OPEN.value,
            )
        )
        for row in rows.all():
            c = competition_to_domain(row, await load_invitations(uow, row.id))
            decision = d.invite_late_joiner(
                c,
                scheme,
                membership=m,
                provider=providers.get(m.provider_id),
                documents=documents.get(m.provider_id, ()),
                now=now,
            )
            if decision.invitation is None:
                log.info("late_joiner.not_invited", competition=row.id, reason=decision.reason)
                continue
            row.screenings = [*row.screenings, _screening_json(decision.competition, m)]
            emit_invitations(uow, decision.competition, [decision.invitation])
            invited_to.append(row.id)
    return invited_to


def _screening_json(c: d.Competition, m: d.Membership) -> dict[str, object]:
    s = next(s for s in reversed(c.screenings) if s.provider_id == m.provider_id)
    return {
        "provider_id": s.provider_id,
        "lot_code": s.lot_code,
        "eligible": s.eligible,
        "reasons": list(s.reasons),
        "round": s.round,
    }


# ------------------------------------------------------------- providers.v1


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


async def _upsert_snapshot(uow: UnitOfWork, snapshot: providers_v1.ProviderSnapshot) -> None:
    row = await uow.session.get(ProviderRow, snapshot.provider_id)
    previous = row.status if row else None
    if row is None:
        row = ProviderRow(provider_id=snapshot.provider_id, status=snapshot.status.value)
    _apply_snapshot(row, snapshot)
    uow.session.add(row)
    if previous != snapshot.status.value:
        await follow_register_status(uow, snapshot.provider_id, snapshot.status, "register update")


async def follow_register_status(
    uow: UnitOfWork, provider_id: str, status: ProviderStatus, reason: str
) -> None:
    """Suspended in the register: memberships suspended; removed: ended; active again:
    memberships suspended by the register reinstated (never those a commissioner suspended)."""
    rows = (
        await uow.session.exec(
            select(MembershipRow).where(MembershipRow.provider_id == provider_id)
        )
    ).all()
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
    rows = (
        await uow.session.exec(
            select(CompetitionRow).where(
                CompetitionRow.scheme_id == m.scheme_id,
                CompetitionRow.category_code == m.category_code,
                CompetitionRow.status == d.CompetitionStatus.OPEN.value,
            )
        )
    ).all()
    done: list[str] = []
    for row in rows:
        bids = (
            await uow.session.exec(
                select(BidRow).where(
                    BidRow.competition_id == row.id,
                    BidRow.provider_id == m.provider_id,
                    BidRow.round == row.round,
                    col(BidRow.superseded).is_(False),
                )
            )
        ).all()
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
    common = {
        "scheme_id": m.scheme_id,
        "provider_id": m.provider_id,
        "category_code": m.category_code,
    }
    payload: procurement_v1.ProcurementEvent
    if m.status is d.MembershipStatus.SUSPENDED:
        payload = procurement_v1.MembershipSuspended(
            **common,
            reason=m.status_reason,
            suspended_by=m.status_changed_by,
            suspended_on=m.status_changed_on,
        )
    elif m.status is d.MembershipStatus.ENDED:
        payload = procurement_v1.MembershipEnded(
            **common,
            reason=m.status_reason,
            ended_by=m.status_changed_by,
            ended_on=m.status_changed_on,
        )
    else:
        payload = procurement_v1.MembershipReinstated(
            **common,
            reason=m.status_reason,
            reinstated_by=m.status_changed_by,
            reinstated_on=m.status_changed_on,
        )
    uow.emit_raw(procurement_v1.TOPIC, payload.TYPE, payload.subject(), payload)
    actor = Actor(id=m.status_changed_by, role="service")
    uow.audit(
        actor, f"membership.{m.status.value}", "membership", str(row.id), reason=m.status_reason
    )


async def on_provider_registered(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderRegistered
) -> None:
    await _upsert_snapshot(uow, payload.provider)


async def on_provider_updated(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderUpdated
) -> None:
    await _upsert_snapshot(uow, payload.provider)


async def on_provider_status_changed(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderStatusChanged
) -> None:
    row = await uow.session.get(ProviderRow, payload.provider_id)
    if row is None:  # status before registration (never in order); keep what we learn
        row = ProviderRow(
            provider_id=payload.provider_id,
            status=payload.status.value,
            need_types=[],
            attendance=[],
            documents=[],
            updated_at=utcnow(),
        )
    row.status = payload.status.value
    row.updated_at = utcnow()
    uow.session.add(row)
    await uow.session.flush()
    await follow_register_status(uow, payload.provider_id, payload.status, payload.reason)


async def on_document_expiring(
    uow: UnitOfWork, _envelope: Envelope, payload: providers_v1.ProviderDocumentExpiring
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


# ------------------------------------------------------------- placements.v1


def need_age(need: placements_v1.PlacementNeedRaised) -> int | None:
    """Age at the required start, as placements sends it. An older event's date of birth
    is ignored (UK GDPR Art. 5(1)(c): procurement holds no child's date of birth)."""
    return need.age_at_start


def need_origin(need: placements_v1.PlacementNeedRaised) -> d.GridPoint | None:
    """Where distances are measured from: the coarse grid cell placements sends. An older
    event's postcode district is ignored (procurement holds no child's district); its
    need is then screened without a distance, as one with an unknown district was."""
    origin = need.search_origin
    return None if origin is None else d.GridPoint(float(origin.easting), float(origin.northing))


def need_title(need: placements_v1.PlacementNeedRaised) -> str:
    """A call-off's published title: never a child reference, date of birth or need
    (UK GDPR Art. 9; the need id is placements' own opaque id, not the child's)."""
    return f"Individual placement: {need.attendance.value}, need {need.need_id}"


async def scheme_for_need(
    uow: UnitOfWork, need: placements_v1.PlacementNeedRaised, today: date
) -> tuple[d.Scheme, d.Category] | None:
    """The oldest open scheme in its term with a category for the need type and attendance."""
    rows = await uow.session.exec(
        select(SchemeRow)
        .where(SchemeRow.status == d.SchemeStatus.OPEN.value)
        .order_by(col(SchemeRow.created_at))
    )
    for row in rows.all():
        scheme = scheme_to_domain(row)
        if not scheme.within_term(today):
            continue
        for category in scheme.categories:
            if need.primary_need in category.need_types and need.attendance in category.attendance:
                return scheme, category
    return None


def need_spec(
    need: placements_v1.PlacementNeedRaised, scheme: d.Scheme, category: d.Category
) -> d.CompetitionSpec:
    age = need_age(need)
    origin = need_origin(need)
    # Without a known origin the distance cannot be measured; widen rather than guess.
    max_km = need.max_distance_km if origin is not None else None
    return d.CompetitionSpec(
        competition_id=f"need-{need.need_id}",
        scheme_id=scheme.scheme_id,
        category_code=category.code,
        kind=d.CompetitionKind.INDIVIDUAL,
        title=need_title(need),
        filter=d.permitted_filter(
            scheme,
            d.FilterCriteria(
                need_type=need.primary_need,
                attendance=need.attendance,
                min_age=age,
                max_age=age,
                origin=origin if max_km is not None else None,
                max_distance_km=max_km,
            ),
        ),
        quality_weight=scheme.award_criteria.quality_weight,
        price_weight=scheme.award_criteria.price_weight,
        quality_questions=scheme.award_criteria.quality_questions,
        need_ref=need.need_id,
        opened_by=NEEDS.id,
    )


def _no_scheme_alert(uow: UnitOfWork, need: placements_v1.PlacementNeedRaised, why: str) -> None:
    competition_id = f"need-{need.need_id}"
    uow.emit_raw(
        procurement_v1.TOPIC,
        procurement_v1.CompetitionNoEligibleMembers.TYPE,
        competition_id,
        procurement_v1.CompetitionNoEligibleMembers(
            competition_id=competition_id,
            scheme_id="",
            category_code="",
            round=1,
            need_ref=need.need_id,
            filter=procurement_v1.FilterInfo(
                need_type=need.primary_need,
                attendance=need.attendance,
                max_distance_km=need.max_distance_km,
            ),
            members_screened=0,
            reasons=[why],
            detected_at=datetime.now(UTC),
        ),
    )
    uow.audit(NEEDS, "competition.no_eligible_members", "need", need.need_id, reason=why)


def check_phase_transfer(
    uow: UnitOfWork, c: d.Competition, scheme: d.Scheme, statutory: date, now: datetime
) -> None:
    """Alert when the call-off cannot be decided by the phase-transfer deadline."""
    check = d.check_call_off_timetable(scheme, c.deadline_at, statutory)
    if not check.at_risk:
        return
    event = procurement_v1.CompetitionDeadlineAtRisk(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        need_ref=c.spec.need_ref,
        statutory_deadline=statutory,
        expected_completion=check.expected_completion,
        tender_deadline_at=c.deadline_at,
        reason=check.reason,
        detected_at=now,
    )
    uow.emit_raw(procurement_v1.TOPIC, event.TYPE, c.competition_id, event)
    uow.audit(NEEDS, "competition.deadline_at_risk", "competition", c.competition_id)


def make_need_handler(runtime: ServiceRuntime) -> Callable[..., Awaitable[None]]:
    async def on_need_raised(
        uow: UnitOfWork, _envelope: Envelope, need: placements_v1.PlacementNeedRaised
    ) -> None:
        now = datetime.now(UTC)
        if await uow.session.get(CompetitionRow, f"need-{need.need_id}") is not None:
            return  # already opened (a replay under another event id)
        found = await scheme_for_need(uow, need, london_date(now))
        if found is None:
            why = f"no open scheme has a category for {need.primary_need} / {need.attendance}"
            _no_scheme_alert(uow, need, why)
            return
        scheme, category = found
        urgent = "urgent placement need" if need.urgent else None
        days = d.tender_floor_days(scheme, urgent)
        spec = need_spec(need, scheme, category)
        try:
            c = await open_call_off(
                uow,
                scheme,
                spec,
                deadline_at=now + timedelta(days=days),
                urgent_reason=urgent,
                actor=NEEDS,
                now=now,
            )
        except d.DomainError as exc:  # e.g. the term ends within the tender period
            _no_scheme_alert(uow, need, f"{exc.field}: {exc.message} [{exc.rule}]")
            return
        if c.status is d.CompetitionStatus.OPEN and need.phase_transfer_deadline is not None:
            check_phase_transfer(uow, c, scheme, need.phase_transfer_deadline, now)
        if c.status is d.CompetitionStatus.OPEN:
            from services.procurement.workflows import start_competition_workflow

            uow.after_commit(
                lambda: start_competition_workflow(runtime, c.competition_id, c.deadline_at)
            )

    return on_need_raised


def subscriptions(runtime: ServiceRuntime) -> Subscriptions:
    """Topic -> event type -> handler."""
    return {
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED: on_provider_registered,
            providers_v1.PROVIDER_UPDATED: on_provider_updated,
            providers_v1.PROVIDER_STATUS_CHANGED: on_provider_status_changed,
            providers_v1.PROVIDER_DOCUMENT_EXPIRING: on_document_expiring,
        },
        placements_v1.TOPIC: {"placement.need.raised": make_need_handler(runtime)},
    }
