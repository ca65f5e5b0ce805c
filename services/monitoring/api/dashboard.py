"""A provider's scorecard, placement budgets and the commissioning dashboard."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from services.monitoring import domain, store
from services.monitoring.api._common import Body, today
from services.monitoring.commands import evidence
from services.monitoring.models import Budget, ProviderProfile
from services.monitoring.policy import ALLOWED
from shared.api_types import ApiDate
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["monitoring"])


class BudgetIn(Body):
    amount: Decimal = Field(
        ge=0, le=Decimal("999999999999.99"), decimal_places=2, allow_inf_nan=False
    )
    reason: str | None = Field(default=None, min_length=1, max_length=1000)


class BudgetOut(BaseModel):
    financial_year: int
    label: str
    amount: Decimal
    set_by: str
    set_at: datetime
    reason: str | None


@router.get("/providers/{provider_id}/scorecard")
async def provider_scorecard(
    provider_id: str,
    as_of: ApiDate | None = None,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> domain.Scorecard:
    """Current Ofsted, visit ratings, KPI trend, open alerts, placements and weekly spend."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await store.provider(uow, provider_id)
        inputs = await store.scorecard_inputs(uow, provider_id)
        return domain.build_scorecard(provider_id, as_of=as_of or today(), **inputs)


def _budget_out(row: Budget) -> BudgetOut:
    return BudgetOut(
        financial_year=row.financial_year,
        label=domain.financial_year_label(row.financial_year),
        amount=Decimal(row.amount),
        set_by=row.set_by,
        set_at=row.set_at,
        reason=row.reason,
    )


@router.put("/budgets/{financial_year}")
async def set_budget(
    body: BudgetIn,
    financial_year: int = Path(
        ge=2000, le=2100, description="2025 means 2025/26 (1 April 2025 to 31 March 2026)"
    ),
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> BudgetOut:
    """Set (or change) the placement budget of a financial year; audited before/after."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await evidence.set_budget(uow, actor, financial_year, body.amount, body.reason)
    return _budget_out(row)


@router.get("/budgets")
async def list_budgets(
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[BudgetOut]:
    async with runtime.db.session() as session:
        rows = await store.budgets(session)
    return [_budget_out(row) for row in rows]


@router.get("/dashboard")
async def dashboard(
    financial_year: int | None = Query(default=None, ge=2000, le=2100),
    as_of: ApiDate | None = None,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> domain.Dashboard:
    """Spend per financial year, on-contract share, cost per placement by need, alerts by
    severity and overdue reviews, all computed from events monitoring has consumed."""
    day = as_of or today()
    year = financial_year if financial_year is not None else domain.financial_year_of(day)
    async with runtime.db.session() as session:
        figures = await store.dashboard_figures(session, year, day)
    return domain.build_dashboard(
        as_of=day,
        financial_year=year,
        budgets=figures.budgets,
        totals=figures.totals,
        needs=figures.needs,
        alert_counts=figures.alert_counts,
        overdue=figures.overdue,
    )


@router.get("/providers")
async def list_known_providers(
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[ProviderProfile]:
    """Providers monitoring has heard of through providers.v1, newest first."""
    async with runtime.db.session() as session:
        return await store.known_providers(session)
