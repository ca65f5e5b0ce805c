"""Reporting: a provider's scorecard and the council-wide dashboard."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from statistics import fmean
from typing import Literal

from pydantic import Field

from services.monitoring.domain._records import _Id, _Record
from services.monitoring.domain.alerts import Alert
from services.monitoring.domain.evidence import KpiReturn, MonitoringVisit, OfstedInspection
from services.monitoring.domain.kpi import PlacementRecord
from services.monitoring.domain.suspension import latest_inspection
from services.monitoring.domain.terms import financial_year_label, term_sort_key
from shared.contracts.common import NeedType
from shared.contracts.quality_v1 import OutcomeProgress, Severity
from shared.fiscal import financial_year_of

# ------------------------------------------------------------------------ scorecard


def _count_by_severity(alerts: Iterable[Alert]) -> dict[Severity, int]:
    """Unresolved alerts per severity, every severity present (zero if none)."""
    counts = dict.fromkeys(Severity, 0)
    for alert in alerts:
        if alert.is_unresolved:
            counts[alert.severity] += 1
    return counts


class VisitRating(_Record):
    visited_on: date
    rating: int


class TermKpi(_Record):
    """One term of a provider's KPI returns, across its placements."""

    term: str
    returns: int
    mean_attendance_pct: float
    exclusions: int
    incidents: int
    outcomes_not_met: int


class Scorecard(_Record):
    """A provider at a glance for monitoring officers and commissioners."""

    provider_id: str
    as_of: date
    current_ofsted: OfstedInspection | None
    visit_ratings: tuple[VisitRating, ...]  # oldest first; 1 best .. 4 worst
    mean_visit_rating: float | None
    kpi_by_term: tuple[TermKpi, ...]  # term order, the attendance trend
    open_alerts_by_severity: dict[Severity, int]
    active_placements: int
    weekly_spend: Decimal


def _kpi_by_term(returns: Iterable[KpiReturn]) -> tuple[TermKpi, ...]:
    grouped: dict[str, list[KpiReturn]] = defaultdict(list)
    for kpi_return in returns:
        grouped[kpi_return.term].append(kpi_return)
    return tuple(
        TermKpi(
            term=term,
            returns=len(group),
            mean_attendance_pct=fmean(r.attendance_pct for r in group),
            exclusions=sum(r.exclusions for r in group),
            incidents=sum(r.incidents for r in group),
            outcomes_not_met=sum(r.outcomes_progress is OutcomeProgress.NOT_MET for r in group),
        )
        for term, group in sorted(grouped.items(), key=lambda item: term_sort_key(item[0]))
    )


def build_scorecard(
    provider_id: str,
    *,
    as_of: date,
    inspections: Iterable[OfstedInspection] = (),
    visits: Iterable[MonitoringVisit] = (),
    kpi_returns: Iterable[KpiReturn] = (),
    alerts: Iterable[Alert] = (),
    placements: Iterable[PlacementRecord] = (),
) -> Scorecard:
    """Aggregate a provider's records; inputs may include other providers' (filtered).

    Records dated after `as_of` are ignored; placements count if active on `as_of`,
    and weekly spend is the sum of their weekly fees.
    """
    own_visits = sorted(
        (v for v in visits if v.provider_id == provider_id and v.visited_on <= as_of),
        key=lambda v: (v.visited_on, v.evidence_id),
    )
    active = [p for p in placements if p.provider_id == provider_id and p.active_on(as_of)]
    return Scorecard(
        provider_id=provider_id,
        as_of=as_of,
        current_ofsted=latest_inspection(
            provider_id, (i for i in inspections if i.inspected_on <= as_of)
        ),
        visit_ratings=tuple(
            VisitRating(visited_on=v.visited_on, rating=v.rating) for v in own_visits
        ),
        mean_visit_rating=fmean(v.rating for v in own_visits) if own_visits else None,
        kpi_by_term=_kpi_by_term(r for r in kpi_returns if r.provider_id == provider_id),
        open_alerts_by_severity=_count_by_severity(
            a for a in alerts if a.provider_id == provider_id
        ),
        active_placements=len(active),
        weekly_spend=sum((p.weekly_fee for p in active), Decimal(0)),
    )


# ------------------------------------------------------------------------ dashboard


class SpendLine(_Record):
    """Committed spend on one placement in one financial year.

    Shaped like placements.v1 `placement.spend.committed`, a snapshot per
    (placement, financial year): the caller passes the latest snapshot of each.
    """

    placement_id: _Id
    provider_id: _Id
    primary_need: NeedType
    financial_year: int = Field(ge=2000, le=2100)  # 2025 = 2025/26
    amount: Decimal = Field(ge=0)
    on_contract: bool  # under a DPS award or block contract
    # "block_unfilled_places": a block's empty places (placement_id is the block's id):
    # spend, but not a placement, so it never counts in cost per placement.
    line: Literal["placement", "block_unfilled_places"] = "placement"


class ReviewDue(_Record):
    """A placement's annual review: due date and, once held, when."""

    placement_id: _Id
    provider_id: _Id
    due_on: date
    completed_on: date | None = None

    def overdue_on(self, day: date) -> bool:
        return self.completed_on is None and day > self.due_on


class YearSpend(_Record):
    """Spend in one financial year against its budget."""

    financial_year: int
    label: str
    spend: Decimal
    on_contract_spend: Decimal
    budget: Decimal | None
    variance: Decimal | None  # spend - budget: positive is overspend


class NeedCost(_Record):
    """Spend and cost per placement for one primary need in a financial year."""

    need: NeedType
    placements: int
    spend: Decimal
    cost_per_placement: Decimal


class Dashboard(_Record):
    """Council-wide value for money and compliance view."""

    as_of: date
    financial_year: int
    spend_by_year: tuple[YearSpend, ...]
    on_contract_share: float | None  # of the selected year's spend; None when no spend
    cost_per_placement_by_need: dict[NeedType, NeedCost]
    open_alerts_by_severity: dict[Severity, int]
    reviews_overdue: int
    overdue_review_placements: tuple[str, ...]


class YearTotal(_Record):
    """Spend of one financial year, on or off contract (summed by the database)."""

    financial_year: int
    on_contract: bool
    amount: Decimal


class NeedTotal(_Record):
    """Spend of one primary need in one financial year, and the distinct placements it
    paid for (summed by the database)."""

    financial_year: int
    primary_need: NeedType
    placements: int
    amount: Decimal


def year_totals(lines: Iterable[SpendLine]) -> list[YearTotal]:
    sums: dict[tuple[int, bool], Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[(line.financial_year, line.on_contract)] += line.amount
    return [
        YearTotal(financial_year=year, on_contract=on, amount=amount)
        for (year, on), amount in sums.items()
    ]


def need_totals(lines: Iterable[SpendLine]) -> list[NeedTotal]:
    """A zero snapshot (commitment withdrawn) is neither spend nor a placement, nor is a
    block's line for its unfilled places a placement (its cost is spend all the same)."""
    spend: dict[tuple[int, NeedType], Decimal] = defaultdict(Decimal)
    placements: dict[tuple[int, NeedType], set[str]] = defaultdict(set)
    for line in lines:
        if line.amount == 0:
            continue
        key = (line.financial_year, line.primary_need)
        spend[key] += line.amount
        if line.line == "placement":
            placements[key].add(line.placement_id)
    return [
        NeedTotal(
            financial_year=year,
            primary_need=need,
            placements=len(placements[year, need]),
            amount=amount,
        )
        for (year, need), amount in spend.items()
    ]


def _spend_by_year(
    totals: Iterable[YearTotal], budgets: Mapping[int, Decimal]
) -> tuple[YearSpend, ...]:
    spend: dict[int, Decimal] = defaultdict(Decimal)
    on_contract: dict[int, Decimal] = defaultdict(Decimal)
    for total in totals:
        spend[total.financial_year] += total.amount
        if total.on_contract:
            on_contract[total.financial_year] += total.amount
    rows = []
    for year in sorted(set(spend) | set(budgets)):
        budget = budgets.get(year)
        rows.append(
            YearSpend(
                financial_year=year,
                label=financial_year_label(year),
                spend=spend[year],
                on_contract_spend=on_contract[year],
                budget=budget,
                variance=None if budget is None else spend[year] - budget,
            )
        )
    return tuple(rows)


def _cost_by_need(totals: Iterable[NeedTotal]) -> dict[NeedType, NeedCost]:
    """Cost per placement = the need's spend / distinct placements with spend that year."""
    return {
        total.primary_need: NeedCost(
            need=total.primary_need,
            placements=total.placements,
            spend=total.amount,
            cost_per_placement=(total.amount / max(total.placements, 1)).quantize(Decimal("0.01")),
        )
        for total in sorted(totals, key=lambda total: total.primary_need)
        if total.amount > 0
    }


def build_dashboard(
    *,
    as_of: date,
    spend: Iterable[SpendLine] = (),
    budgets: Mapping[int, Decimal] | None = None,
    alerts: Iterable[Alert] = (),
    reviews: Iterable[ReviewDue] = (),
    financial_year: int | None = None,
    totals: Iterable[YearTotal] | None = None,
    needs: Iterable[NeedTotal] | None = None,
    alert_counts: Mapping[Severity, int] | None = None,
    overdue: Iterable[str] | None = None,
) -> Dashboard:
    """Aggregate the council-wide dashboard.

    `budgets` maps financial year (2025 = 2025/26) to budget. Spend is shown for every
    year with spend or a budget; on-contract share and cost per placement by need are
    for `financial_year` (default: the one containing `as_of`). A review is overdue when
    not completed and `as_of` is after its due date. What the database already holds
    summed or selected may come instead of the records: `totals` (spend per year on and
    off contract) and `needs` (spend per need, of the selected year at least) instead of
    `spend`, `alert_counts` (unresolved alerts per severity) instead of `alerts`, and `overdue`
    (the placements whose review is overdue) instead of `reviews`.
    """
    year = financial_year if financial_year is not None else financial_year_of(as_of)
    lines = list(spend)
    rows = _spend_by_year(year_totals(lines) if totals is None else totals, budgets or {})
    selected = next((row for row in rows if row.financial_year == year), None)
    share = None
    if selected is not None and selected.spend > 0:
        share = float(selected.on_contract_spend / selected.spend)
    if overdue is None:
        overdue = (r.placement_id for r in reviews if r.overdue_on(as_of))
    overdue_placements = sorted(set(overdue))
    return Dashboard(
        as_of=as_of,
        financial_year=year,
        spend_by_year=rows,
        on_contract_share=share,
        cost_per_placement_by_need=_cost_by_need(
            total
            for total in (need_totals(lines) if needs is None else needs)
            if total.financial_year == year
        ),
        open_alerts_by_severity=(
            _count_by_severity(alerts)
            if alert_counts is None
            else {severity: alert_counts.get(severity, 0) for severity in Severity}
        ),
        reviews_overdue=len(overdue_placements),
        overdue_review_placements=tuple(overdue_placements),
    )
