"""Opening call-offs and inviting members to them (reg 34: all members are invited)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.procurement import domain as d
from services.procurement import events
from services.procurement.models import (
    competition_row,
    competition_to_domain,
    invitation_row,
    tracked_notice_row,
)
from services.procurement.store import (
    load_invitations,
    load_memberships,
    load_providers,
    open_competitions_of,
)
from shared.logging import get_logger
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date

log = get_logger(__name__)


def emit_invitations(
    uow: UnitOfWork, c: d.Competition, invitations: Sequence[d.Invitation]
) -> None:
    for i in invitations:
        uow.session.add(invitation_row(c.competition_id, i))
        uow.emit(events.provider_invited(c, i))


def emit_no_eligible(uow: UnitOfWork, c: d.Competition, now: datetime) -> None:
    uow.emit(events.no_eligible_members(c, now))


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
    uow.emit(events.competition_opened(c, actor.id, now))
    emit_invitations(uow, c, c.invitations)
    for owed in d.track_call_off_notices(scheme, c.competition_id, london_date(now)):
        uow.session.add(tracked_notice_row(owed))  # Act: the tender notice (reg 21)
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
        for row in await open_competitions_of(uow, scheme.scheme_id, m.category_code):
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
