"""HTTP routes of procurement: direct awards under the Procurement Act 2023 (s.41,
Schedule 5) — the ground, its justification, and what must precede the contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import Field

from services.procurement import commands
from services.procurement.api._common import Runtime, current_time
from services.procurement.models import direct_award_to_domain, direct_award_view
from services.procurement.policy import ALLOWED
from shared.api_types import RequestBody
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


class DirectAwardIn(RequestBody):
    """A direct award: the Schedule 5 ground, why it applies (internal: never a child's
    name; the need is named by its pseudonymous reference), the supplier and the terms."""

    ground: Literal["user_choice", "extreme_urgency"]
    justification: str = Field(min_length=1, max_length=5000)
    provider_id: str = Field(min_length=1, max_length=36)
    contract_value: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    start_date: date
    end_date: date | None = None
    scheme_id: str | None = Field(default=None, max_length=36)
    need_ref: str | None = Field(default=None, max_length=100)
    light_touch: bool = True  # school and residential placements are light touch services
    voluntary_standstill: bool = False


@router.post("/direct-awards", status_code=status.HTTP_201_CREATED)
async def record_direct_award(
    body: DirectAwardIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Record a direct award on a Schedule 5 ground: the answer says whether a
    transparency notice (s.44) and a contract award notice (s.50) must come first and
    whether a standstill (s.51) applies, each with its source."""
    after_commit: list[commands.AfterCommit] = []
    async with unit_of_work(runtime.db, runtime.source) as uow:
        award = await commands.decide_direct_award(
            uow,
            actor,
            ground=body.ground,
            justification=body.justification,
            provider_id=body.provider_id,
            contract_value=body.contract_value,
            start_date=body.start_date,
            end_date=body.end_date,
            now=current_time(),
            scheme_id=body.scheme_id,
            need_ref=body.need_ref,
            light_touch=body.light_touch,
            voluntary_standstill=body.voluntary_standstill,
            after_commit=after_commit,
        )
    for start in after_commit:  # the clocks of the notices it owes
        await start(runtime)
    return direct_award_view(award)


@router.get("/direct-awards/{direct_award_id}")
async def get_direct_award(
    direct_award_id: str, runtime: Runtime, _: Actor = ALLOWED
) -> dict[str, Any]:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.load_direct_award(uow, direct_award_id)
    return direct_award_view(direct_award_to_domain(row))
