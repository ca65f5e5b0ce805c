"""Loaders, queries and locks of procurement's tables (rows <-> domain in models.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.procurement import domain as d
from services.procurement.domain import ocds
from services.procurement.models import (
    ApplicationRow,
    AwardRow,
    BidRow,
    CompetitionRow,
    EvaluatorScoreRow,
    InvitationRow,
    MembershipRow,
    ProviderRow,
    SchemeRow,
    SelfDeclarationRow,
    TrackedNoticeRow,
    award_to_domain,
    bid_to_domain,
    competition_to_domain,
    documents_to_domain,
    membership_to_domain,
    provider_to_domain,
    scheme_to_domain,
)
from shared.errors import DomainError, NotFound
from shared.unit_of_work import UnitOfWork


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


async def lock_notice(uow: UnitOfWork, notice_id: str) -> None:
    """The notice row's write lock (a no-op UPDATE), as :func:`lock` does."""
    key = col(TrackedNoticeRow.notice_id)
    await uow.session.exec(update(TrackedNoticeRow).where(key == notice_id).values(notice_id=key))


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


async def load_invitations(uow: UnitOfWork, competition_id: str) -> list[InvitationRow]:
    rows = await uow.session.exec(
        select(InvitationRow)
        .where(InvitationRow.competition_id == competition_id)
        .order_by(col(InvitationRow.id))
    )
    return list(rows.all())


async def live_bids(uow: UnitOfWork, row: CompetitionRow) -> list[d.Bid]:
    """The live (not superseded) bids of the competition's current round."""
    bid_rows = (
        await uow.session.exec(
            select(BidRow)
            .where(
                BidRow.competition_id == row.id,
                BidRow.round == row.round,
                col(BidRow.superseded).is_(False),
            )
            .order_by(col(BidRow.submitted_at), col(BidRow.id))
        )
    ).all()
    return [bid_to_domain(b) for b in bid_rows]


async def open_competitions_of(
    uow: UnitOfWork, scheme_id: str, category_code: str
) -> list[CompetitionRow]:
    """The open call-offs of a scheme's category."""
    rows = await uow.session.exec(
        select(CompetitionRow).where(
            CompetitionRow.scheme_id == scheme_id,
            CompetitionRow.category_code == category_code,
            CompetitionRow.status == d.CompetitionStatus.OPEN.value,
        )
    )
    return list(rows.all())


async def open_schemes(uow: UnitOfWork) -> list[d.Scheme]:
    """The open schemes, oldest first."""
    rows = await uow.session.exec(
        select(SchemeRow)
        .where(SchemeRow.status == d.SchemeStatus.OPEN.value)
        .order_by(col(SchemeRow.created_at))
    )
    return [scheme_to_domain(r) for r in rows.all()]


async def evaluator_score_rows(uow: UnitOfWork, row: CompetitionRow) -> list[EvaluatorScoreRow]:
    """The evaluators' scores of the competition's current round."""
    rows = await uow.session.exec(
        select(EvaluatorScoreRow)
        .where(EvaluatorScoreRow.competition_id == row.id, EvaluatorScoreRow.round == row.round)
        .order_by(col(EvaluatorScoreRow.id))
    )
    return list(rows.all())


async def provider_memberships(uow: UnitOfWork, provider_id: str) -> list[MembershipRow]:
    rows = await uow.session.exec(
        select(MembershipRow).where(MembershipRow.provider_id == provider_id)
    )
    return list(rows.all())


async def member_rows(
    uow: UnitOfWork, scheme_id: str, provider_id: str, category_code: str | None
) -> list[MembershipRow]:
    """The provider's memberships of the scheme (of one category, or all if None)."""
    rows = await uow.session.exec(
        select(MembershipRow).where(
            MembershipRow.scheme_id == scheme_id, MembershipRow.provider_id == provider_id
        )
    )
    return [r for r in rows.all() if category_code in (None, r.category_code)]


# ------------------------------------------------------- rows the routes act on


async def load_scheme_row(uow: UnitOfWork, scheme_id: str) -> SchemeRow:
    row = await uow.session.get(SchemeRow, scheme_id)
    if row is None:
        raise NotFound("scheme", scheme_id)
    return row


async def locked_application(uow: UnitOfWork, application_id: str) -> ApplicationRow:
    await lock(uow, ApplicationRow, application_id)
    row = await uow.session.get(ApplicationRow, application_id)
    if row is None:
        raise NotFound("application", application_id)
    return row


async def locked_declaration(uow: UnitOfWork, request_id: str) -> SelfDeclarationRow:
    await lock(uow, SelfDeclarationRow, request_id)
    row = await uow.session.get(SelfDeclarationRow, request_id)
    if row is None:
        raise NotFound("self_declaration", request_id)
    return row


async def locked_competition(uow: UnitOfWork, competition_id: str) -> CompetitionRow:
    await lock(uow, CompetitionRow, competition_id)
    row = await uow.session.get(CompetitionRow, competition_id)
    if row is None:
        raise NotFound("competition", competition_id)
    return row


async def category_membership(
    uow: UnitOfWork, row: CompetitionRow, provider_id: str
) -> d.Membership | None:
    rows = (
        await uow.session.exec(
            select(MembershipRow).where(
                MembershipRow.scheme_id == row.scheme_id,
                MembershipRow.provider_id == provider_id,
                MembershipRow.category_code == row.category_code,
                MembershipRow.status != d.MembershipStatus.ENDED.value,
            )
        )
    ).all()
    return membership_to_domain(rows[0]) if rows else None


async def registered_provider(uow: UnitOfWork, provider_id: str) -> ProviderRow:
    row = await uow.session.get(ProviderRow, provider_id)
    if row is None:
        raise DomainError("provider_id", "unknown: not (yet) in the register")
    return row


async def invited_competition(
    uow: UnitOfWork, competition_id: str, provider_id: str
) -> tuple[CompetitionRow, d.Competition]:
    """The competition (locked) as the domain sees it, if the provider was ever invited
    to it; others' call-offs stay hidden (NotFound)."""
    row = await locked_competition(uow, competition_id)
    c = competition_to_domain(row, await load_invitations(uow, competition_id))
    if not any(i.provider_id == provider_id for i in c.invitations):
        raise NotFound("competition", competition_id)
    return row, c


async def provider_live_bid_rows(
    uow: UnitOfWork, row: CompetitionRow, provider_id: str
) -> list[BidRow]:
    """The provider's live (not superseded) bids of the competition's current round."""
    rows = await uow.session.exec(
        select(BidRow).where(
            BidRow.competition_id == row.id,
            BidRow.provider_id == provider_id,
            BidRow.round == row.round,
            col(BidRow.superseded).is_(False),
        )
    )
    return list(rows.all())


async def latest_bid_version(uow: UnitOfWork, row: CompetitionRow, provider_id: str) -> int:
    """The highest version this provider sent in the round (withdrawn ones included)."""
    versions = (
        await uow.session.exec(
            select(BidRow.version).where(
                BidRow.competition_id == row.id,
                BidRow.provider_id == provider_id,
                BidRow.round == row.round,
            )
        )
    ).all()
    return max(versions, default=0)


async def locked_notice(uow: UnitOfWork, notice_id: str) -> TrackedNoticeRow:
    await lock_notice(uow, notice_id)
    row = await uow.session.get(TrackedNoticeRow, notice_id)
    if row is None:
        raise NotFound("notice", notice_id)
    return row


# ------------------------------------------------------------ the OCDS feed (reads)


async def load_scheme_process(session: AsyncSession, scheme_id: str) -> ocds.SchemeProcess:
    """A scheme with its call-offs, awards and awarded suppliers, as the OCDS feed
    publishes them (domain.ocds decides what of it may be published)."""
    row = await session.get(SchemeRow, scheme_id)
    if row is None:
        raise NotFound("scheme", scheme_id)
    scheme = scheme_to_domain(row)
    categories = {c.code: c.name for c in scheme.categories}
    competitions = (
        await session.exec(
            select(CompetitionRow)
            .where(CompetitionRow.scheme_id == scheme_id)
            .order_by(col(CompetitionRow.opened_at), col(CompetitionRow.id))
        )
    ).all()
    ids = [c.id for c in competitions]
    awards = {
        a.competition_id: a
        for a in (
            await session.exec(select(AwardRow).where(col(AwardRow.competition_id).in_(ids)))
        ).all()
    }
    providers = {
        p.provider_id: p
        for p in (
            await session.exec(
                select(ProviderRow).where(
                    col(ProviderRow.provider_id).in_([a.provider_id for a in awards.values()])
                )
            )
        ).all()
    }
    call_offs = []
    for c in competitions:
        award_row = awards.get(c.id)
        provider = providers.get(award_row.provider_id) if award_row else None
        concluded = None
        if award_row is not None:
            concluded = (
                award_row.standstill_ended_at
                if award_row.contract_awaits_standstill
                else award_row.approved_at
            )
        call_offs.append(
            ocds.CallOff(
                competition_id=c.id,
                category_name=categories.get(c.category_code, c.category_code),
                need_type=str(c.spec["filter"]["need_type"]),
                kind=c.kind,
                places=int(c.spec.get("places", 1)),
                status=c.status,
                opened_at=c.opened_at,
                deadline_at=c.deadline_at,
                award=award_to_domain(award_row) if award_row else None,
                supplier=(
                    ocds.Supplier(
                        award_row.provider_id,
                        # a provider the register has not (yet) told us of: its id
                        provider.name if provider else f"Provider {award_row.provider_id}",
                        provider.urn if provider else None,
                    )
                    if award_row
                    else None
                ),
                contract_concluded_at=concluded,
            )
        )
    return ocds.SchemeProcess(scheme, row.created_at, tuple(call_offs))
