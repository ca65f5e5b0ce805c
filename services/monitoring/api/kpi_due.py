"""KPI returns a provider owes: for each placement active in a term, the return it sent
or whether the return is still due or already overdue. A provider sees only its own
(policy `own`); placements are named by id only, no child's details."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.monitoring import domain, store
from services.monitoring.commands.alerts import kpi_deadline
from services.monitoring.policy import ALLOWED
from services.monitoring.settings import MonitoringSettings
from shared import clock
from shared.contracts import quality_v1
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor
from shared.working_days import working_day_deadline

router = APIRouter(tags=["monitoring"])


class KpiReturnOwedOut(BaseModel):
    placement_id: str
    term: str
    deadline: datetime
    state: domain.KpiReturnState
    return_id: str | None


def _terms(term: str | None, now: datetime) -> list[str]:
    """The asked term, else the earliest term still open for returns and the one before
    it (whose deadline has passed): what a provider can still send and what is late."""
    if term is not None:
        return [term]
    days = MonitoringSettings().kpi_return_working_days  # as the deadlines below
    due = domain.first_term_due_after(now, working_day_deadline, days)
    return [due, domain.previous_term(due)]


@router.get("/providers/{provider_id}/kpi-returns/due")
async def kpi_returns_due(
    provider_id: str,
    term: str | None = Query(default=None, pattern=quality_v1.TERM_PATTERN),
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[KpiReturnOwedOut]:
    """The provider's placements' returns for the term (default: the open term and the
    one before), placement by placement. An unknown provider simply owes nothing."""
    now = clock.now()
    terms = _terms(term, now)
    deadlines = {t: kpi_deadline(t) for t in terms}
    async with runtime.db.session() as session:
        placements, returns = await store.provider_kpi_position(session, provider_id, terms)
    owed = [
        owe
        for t in terms
        for owe in domain.kpi_returns_owed(placements, returns, t, deadlines[t], now)
    ]
    return [KpiReturnOwedOut(**vars(o)) for o in owed]
