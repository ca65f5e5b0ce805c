"""Domain results -> procurement.v1 event payloads, in one place.

Each function builds the payload (a ``shared.contracts.base.Event``) that the commands
stage with ``uow.emit(event)``; topic, type and subject come from the event class.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from services.procurement import domain as d
from services.procurement.domain.direct_awards import DirectAward
from services.procurement.models import ApplicationRow, SelfDeclarationRow
from shared.contracts import placements_v1, procurement_v1
from shared.contracts.procurement_v1 import ProcurementEvent

# ------------------------------------------------------------------ call-offs


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


def provider_invited(c: d.Competition, i: d.Invitation) -> procurement_v1.ProviderInvited:
    return procurement_v1.ProviderInvited(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        provider_id=i.provider_id,
        round=i.round,
        lot_code=i.lot_code,
        reason=i.reason.value,
        invited_at=i.invited_at,
        deadline_at=c.deadline_at,
    )


def no_eligible_members(
    c: d.Competition, now: datetime
) -> procurement_v1.CompetitionNoEligibleMembers:
    screened = [s for s in c.screenings if s.round == c.round]
    reasons = [f"{s.provider_id}: {'; '.join(s.reasons)}" for s in screened if not s.eligible]
    reasons += [t.reason for t in c.tier_steps if t.round == c.round and not t.consulted]
    return procurement_v1.CompetitionNoEligibleMembers(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        category_code=c.spec.category_code,
        round=c.round,
        need_ref=c.spec.need_ref,
        filter=filter_info(c.spec.filter),
        members_screened=len(screened),
        reasons=reasons or ["the category has no members"],
        detected_at=now,
    )


def no_scheme_for_need(
    need: placements_v1.PlacementNeedRaised, why: str, now: datetime
) -> procurement_v1.CompetitionNoEligibleMembers:
    return procurement_v1.CompetitionNoEligibleMembers(
        competition_id=f"need-{need.need_id}",
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
        detected_at=now,
    )


def competition_opened(
    c: d.Competition, opened_by: str, now: datetime
) -> procurement_v1.CompetitionOpened:
    spec = c.spec
    return procurement_v1.CompetitionOpened(
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
        opened_by=opened_by,
    )


def deadline_at_risk(
    c: d.Competition, check: Any, statutory: date, now: datetime
) -> procurement_v1.CompetitionDeadlineAtRisk:
    return procurement_v1.CompetitionDeadlineAtRisk(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        need_ref=c.spec.need_ref,
        statutory_deadline=statutory,
        expected_completion=check.expected_completion,
        tender_deadline_at=c.deadline_at,
        reason=check.reason,
        detected_at=now,
    )


def bid_received(c: d.Competition, b: d.Bid, now: datetime) -> procurement_v1.BidReceived:
    return procurement_v1.BidReceived(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        bid_id=b.bid_id,
        provider_id=b.provider_id,
        round=b.round,
        version=b.version,
        replaces_bid_id=b.replaces_bid_id,
        submitted_at=now,
    )


def clarification_answered(
    c: d.Competition, q: d.Clarification, now: datetime
) -> procurement_v1.ClarificationAnswered:
    """Who to tell (every invited provider of the round), never who asked nor the text."""
    return procurement_v1.ClarificationAnswered(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        clarification_id=q.clarification_id,
        round=q.round,
        invited_provider_ids=sorted({i.provider_id for i in c.current_invitations()}),
        answered_at=now,
        deadline_at=c.deadline_at,
    )


def competition_closed(
    c: d.Competition, bids: int, now: datetime, *, awaiting_scores: bool
) -> procurement_v1.CompetitionClosed:
    return procurement_v1.CompetitionClosed(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        round=c.round,
        closed_at=now,
        bids_received=bids,
        awaiting_evaluator_scores=awaiting_scores,
    )


def competition_evaluated(
    c: d.Competition, r: d.EvaluationResult, evaluated_by: str, now: datetime
) -> procurement_v1.CompetitionEvaluated:
    return procurement_v1.CompetitionEvaluated(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        round=c.round,
        quality_weight=r.quality_weight,
        price_weight=r.price_weight,
        ranking=[
            procurement_v1.RankedBid(
                rank=s.rank,
                bid_id=s.bid_id,
                provider_id=s.provider_id,
                price_score=s.price_score,
                quality_score=s.quality_score,
                total=s.total,
            )
            for s in r.ranking
        ],
        non_compliant=[
            procurement_v1.SetAsideBid(bid_id=n.bid_id, provider_id=n.provider_id, reason=n.reason)
            for n in r.non_compliant
        ],
        tie_break_rule=r.tie_break_rule,
        evaluated_at=now,
        evaluated_by=evaluated_by,
    )


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"))


def competition_awarded(a: d.Award) -> procurement_v1.CompetitionAwarded:
    return procurement_v1.CompetitionAwarded(
        competition_id=a.competition_id,
        scheme_id=a.scheme_id,
        round=a.round,
        kind=a.kind.value,
        category_code=a.category_code,
        lot_code=a.lot_code,
        bid_id=a.bid_id,
        provider_id=a.provider_id,
        places=a.places,
        need_ref=a.need_ref,
        fee_basis=a.fee_basis.value,
        core_fee=a.core_fee,
        weekly_core_fee=a.weekly_core_fee,
        weeks_per_year=a.weeks_per_year,
        additional_support=[
            procurement_v1.SupportItemInfo(
                description=i.description, amount=i.amount, basis=i.basis.value
            )
            for i in a.additional_support
        ],
        start_date=a.start_date,
        end_date=a.end_date,
        annual_value=_money(a.annual_value),
        contract_value=_money(a.contract_value),
        price_score=a.price_score,
        quality_score=a.quality_score,
        total_score=a.total_score,
        approved_by=a.approved_by,
        approved_at=a.approved_at,
        standstill_ends_at=a.standstill_ends_at,
        notice_due_on=a.notice_due_on,
        contract_awaits_standstill=a.contract_awaits_standstill,
    )


def no_suitable_bid(
    competition_id: str, scheme_id: str, outcome: d.NoSuitableBid, declared_by: str, now: datetime
) -> procurement_v1.CompetitionNoSuitableBid:
    return procurement_v1.CompetitionNoSuitableBid(
        competition_id=competition_id,
        scheme_id=scheme_id,
        round=outcome.round,
        lot_code=outcome.lot_code,
        reason=outcome.reason,
        next_action=outcome.next_action.value,
        next_lot_code=outcome.next_lot_code,
        declared_by=declared_by,
        declared_at=now,
    )


def competition_reopened(
    c: d.Competition, reason: str, deadline_at: datetime, invited: int, now: datetime
) -> procurement_v1.CompetitionReopened:
    return procurement_v1.CompetitionReopened(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        round=c.round,
        lot_code=c.current_lot,
        reason=reason,
        deadline_at=deadline_at,
        invited_count=invited,
        reopened_at=now,
    )


def standstill_ended(
    terms: dict[str, Any], now: datetime
) -> procurement_v1.CompetitionStandstillEnded:
    """The award's terms again, now the contract is concluded."""
    return procurement_v1.CompetitionStandstillEnded.model_validate(
        {**terms, "standstill_ended_at": now}
    )


def notice_published(
    n: d.TrackedNotice, status: Literal["sent", "published"], by: str, now: datetime
) -> procurement_v1.NoticePublished:
    return procurement_v1.NoticePublished(
        notice_id=n.notice_id,
        kind=n.kind.value,
        scheme_id=n.scheme_id,
        competition_id=n.competition_id,
        status=status,
        by=by,
        at=now,
        publication_ref=n.publication_ref,
        late=d.notice_late(n),
    )


def notice_overdue(n: d.TrackedNotice, now: datetime) -> procurement_v1.NoticeOverdue:
    return procurement_v1.NoticeOverdue(
        notice_id=n.notice_id,
        kind=n.kind.value,
        scheme_id=n.scheme_id,
        competition_id=n.competition_id,
        due_on=n.due_on,
        rule=n.rule,
        detected_at=now,
    )


# ------------------------------------------------------------------ schemes


def scheme_created(s: d.Scheme, created_by: str) -> procurement_v1.SchemeCreated:
    return procurement_v1.SchemeCreated(
        scheme_id=s.scheme_id,
        reference=s.reference,
        title=s.title,
        regime=s.regime.value,
        term_start=s.term_start,
        term_end=s.term_end,
        max_extension_end=s.max_extension_end,
        categories=[
            procurement_v1.CategoryInfo(
                code=c.code,
                name=c.name,
                need_types=sorted(c.need_types),
                attendance=sorted(c.attendance),
            )
            for c in s.categories
        ],
        lots=[
            procurement_v1.LotInfo(
                code=lot.code,
                name=lot.name,
                min_quality_score=lot.min_quality_score,
                block_contracts_allowed=lot.block_contracts_allowed,
            )
            for lot in s.lots
        ],
        required_documents=sorted(s.required_documents),
        min_tender_days=s.tender_days_floor,
        created_by=created_by,
        established_on=s.established_on,
        imported=s.imported,
        narrowing_published=s.narrowing_published,
        award_quality_weight=s.award_criteria.quality_weight,
        award_price_weight=s.award_criteria.price_weight,
        light_touch=s.regime_rules.light_touch,
        reopening_dates=list(s.reopening_dates) or None,
    )


def direct_award_recorded(a: DirectAward) -> procurement_v1.DirectAwardRecorded:
    return procurement_v1.DirectAwardRecorded(
        direct_award_id=a.direct_award_id,
        ground=a.ground.value,
        provider_id=a.provider_id,
        scheme_id=a.scheme_id,
        need_ref=a.need_ref,
        contract_value=_money(a.contract_value),
        start_date=a.start_date,
        end_date=a.end_date,
        light_touch=a.light_touch,
        requires_transparency_notice=a.requires_transparency_notice,
        requires_contract_award_notice=a.requires_contract_award_notice,
        standstill_applies=a.standstill_applies,
        standstill_mandatory=a.standstill_mandatory,
        standstill_working_days=a.standstill_working_days,
        decided_by=a.decided_by,
        decided_at=a.decided_at,
    )


def scheme_opened_on_create(s: d.Scheme, by: str, now: datetime) -> procurement_v1.SchemeOpened:
    return procurement_v1.SchemeOpened(
        scheme_id=s.scheme_id, previous_status="draft", opened_at=now, opened_by=by
    )


def scheme_amended(
    before: d.Scheme, changed: Sequence[str], reason: str, by: str, now: datetime
) -> procurement_v1.SchemeAmended:
    return procurement_v1.SchemeAmended(
        scheme_id=before.scheme_id,
        status=before.status.value,
        changed=list(changed),
        reason=reason or None,
        amended_at=now,
        amended_by=by,
    )


def _latest_notice_form(before: d.Scheme, after: d.Scheme) -> str | None:
    new = after.period_notices[len(before.period_notices) :]
    return new[-1].form if new else None


def scheme_status_changed(
    before: d.Scheme,
    after: d.Scheme,
    action: Literal["open", "suspend", "close", "extend"],
    reason: str,
    by: str,
    now: datetime,
) -> ProcurementEvent:
    """The event of a scheme's change of status (opened, suspended, closed, extended)."""
    sid = after.scheme_id
    if action == "open":
        prev: Literal["draft", "suspended"] = (
            "suspended" if before.status is d.SchemeStatus.SUSPENDED else "draft"
        )
        return procurement_v1.SchemeOpened(
            scheme_id=sid, previous_status=prev, opened_at=now, opened_by=by
        )
    if action == "suspend":
        return procurement_v1.SchemeSuspended(
            scheme_id=sid, reason=reason, suspended_at=now, suspended_by=by
        )
    if action == "close":
        return procurement_v1.SchemeClosed(
            scheme_id=sid,
            reason=reason,
            closed_at=now,
            closed_by=by,
            previous_term_end=before.term_end_effective,
            period_notice_form=_latest_notice_form(before, after),
        )
    return scheme_extended(before, after, reason, by, now)


def scheme_extended(
    before: d.Scheme, after: d.Scheme, reason: str, by: str, now: datetime
) -> procurement_v1.SchemeExtended:
    return procurement_v1.SchemeExtended(
        scheme_id=after.scheme_id,
        previous_term_end=before.term_end_effective,
        term_end=after.term_end_effective,
        extended_at=now,
        extended_by=by,
        reason=reason,
        extension_number=after.extensions_used,
        extensions_allowed=len(after.extension_options),
        period_notice_form=_latest_notice_form(before, after),
    )


# ------------------------------------------------- applications and declarations


def application_submitted(row: ApplicationRow) -> procurement_v1.ApplicationSubmitted:
    return procurement_v1.ApplicationSubmitted(
        application_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        requested_categories=row.requested_categories,
        submitted_at=row.submitted_at,
        evaluation_due_on=row.due_on,
        evaluation_due_at=row.due_at,
        reminder_at=row.reminder_at,
    )


def application_extended(
    row: ApplicationRow, reason: str, by: str, now: datetime
) -> procurement_v1.ApplicationExtended:
    return procurement_v1.ApplicationExtended(
        application_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        reason=reason,
        extended_by=by,
        extended_at=now,
        evaluation_due_on=row.due_on,
        evaluation_due_at=row.due_at,
    )


def application_reminder_due(
    row: ApplicationRow, now: datetime
) -> procurement_v1.ApplicationReminderDue:
    return procurement_v1.ApplicationReminderDue(
        application_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        evaluation_due_on=row.due_on,
        evaluation_due_at=row.due_at,
        reminder_at=row.reminder_at,
        extended=row.extension_reason is not None,
        detected_at=now,
    )


def application_overdue(row: ApplicationRow, now: datetime) -> procurement_v1.ApplicationOverdue:
    return procurement_v1.ApplicationOverdue(
        application_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        evaluation_due_on=row.due_on,
        detected_at=now,
        extended=row.extension_reason is not None,
    )


def self_declaration_overdue(
    row: SelfDeclarationRow, now: datetime
) -> procurement_v1.SelfDeclarationOverdue:
    return procurement_v1.SelfDeclarationOverdue(
        request_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        due_on=row.due_on,
        detected_at=now,
    )


def self_declaration_requested(
    row: SelfDeclarationRow, now: datetime
) -> procurement_v1.SelfDeclarationRequested:
    return procurement_v1.SelfDeclarationRequested(
        request_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        requested_by=row.requested_by,
        requested_at=now,
        due_on=row.due_on,
        due_at=row.due_at,
        reason=row.reason,
    )


def self_declaration_answered(
    row: SelfDeclarationRow, answered_late: bool, now: datetime
) -> procurement_v1.SelfDeclarationAnswered:
    return procurement_v1.SelfDeclarationAnswered(
        request_id=row.id,
        scheme_id=row.scheme_id,
        provider_id=row.provider_id,
        answered_at=now,
        due_on=row.due_on,
        answered_late=answered_late,
    )


def application_decided(result: d.DecisionResult, decided_by: str) -> list[ProcurementEvent]:
    """The decision, then each membership it admits."""
    a = result.application
    decision = a.decision
    assert decision is not None
    events: list[ProcurementEvent] = [
        procurement_v1.ApplicationDecided(
            application_id=a.application_id,
            scheme_id=a.scheme_id,
            provider_id=a.provider_id,
            outcome=decision.outcome.value,
            admitted_categories=list(decision.admitted_categories),
            refused_categories=[
                procurement_v1.CategoryRefusal(category_code=r.category_code, reason=r.reason)
                for r in decision.refused_categories
            ],
            criteria=[
                procurement_v1.CriterionOutcome(
                    criterion=c.criterion, passed=c.passed, reason=c.reason, score=c.score
                )
                for c in decision.criteria
            ],
            quality_score=decision.quality_score,
            lot_code=decision.lot_code,
            decided_by=decided_by,
            decided_at=decision.decided_at,
            decided_late=decision.decided_late,
        )
    ]
    for m in result.memberships:
        events.append(
            procurement_v1.MembershipAdmitted(
                scheme_id=m.scheme_id,
                provider_id=m.provider_id,
                category_code=m.category_code,
                application_id=m.application_id,
                lot_code=m.lot_code,
                quality_score=m.quality_score,
                admitted_on=m.admitted_on,
            ),
        )
    return events


# ---------------------------------------------------------------- memberships


def membership_changed(m: d.Membership) -> ProcurementEvent:
    """Suspended, ended or reinstated: the event of a membership's new status."""
    assert m.status_reason and m.status_changed_by and m.status_changed_on
    common = {
        "scheme_id": m.scheme_id,
        "provider_id": m.provider_id,
        "category_code": m.category_code,
    }
    if m.status is d.MembershipStatus.SUSPENDED:
        return procurement_v1.MembershipSuspended(
            **common,
            reason=m.status_reason,
            suspended_by=m.status_changed_by,
            suspended_on=m.status_changed_on,
        )
    if m.status is d.MembershipStatus.ENDED:
        return procurement_v1.MembershipEnded(
            **common,
            reason=m.status_reason,
            ended_by=m.status_changed_by,
            ended_on=m.status_changed_on,
        )
    return procurement_v1.MembershipReinstated(
        **common,
        reason=m.status_reason,
        reinstated_by=m.status_changed_by,
        reinstated_on=m.status_changed_on,
    )


def invitations(c: d.Competition, invited: Sequence[d.Invitation]) -> list[ProcurementEvent]:
    return [provider_invited(c, i) for i in invited]
