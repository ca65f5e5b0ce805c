"""Temporal activities of procurement: each opens a unit of work and runs a command.

Every activity takes the workflow's ``now`` (its deterministic clock) instead of reading
the wall clock, so the 10/15-working-day clock and the tender deadline behave the same
under time skipping as in production. The commands re-read the database and are
idempotent: a retried or duplicated activity changes nothing twice. Names and inputs
live in workflow_types.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio import activity

from services.procurement import commands
from services.procurement.workflow_types import (
    CLOSE_ACTIVITY,
    DECLARATION_OVERDUE_ACTIVITY,
    END_STANDSTILL_ACTIVITY,
    NOTICE_OVERDUE_ACTIVITY,
    OVERDUE_ACTIVITY,
    REMIND_ACTIVITY,
    ClockCheck,
    ClockState,
    ClockTick,
    CompetitionCheck,
    CompetitionState,
    DeclarationCheck,
)
from shared.db import Database
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work


async def remind_evaluators(db: Database, source: str, check: ClockCheck) -> ClockState:
    async with unit_of_work(db, source) as uow:
        return await commands.remind_evaluators(uow, check)


async def mark_overdue(db: Database, source: str, check: ClockCheck) -> ClockState:
    async with unit_of_work(db, source) as uow:
        return await commands.mark_application_overdue(uow, check)


async def mark_declaration_overdue(db: Database, source: str, check: DeclarationCheck) -> bool:
    async with unit_of_work(db, source) as uow:
        return await commands.mark_declaration_overdue(uow, check)


async def close_and_evaluate(
    db: Database, source: str, check: CompetitionCheck
) -> CompetitionState:
    async with unit_of_work(db, source) as uow:
        return await commands.close_and_evaluate(uow, check)


async def end_standstill(db: Database, source: str, tick: ClockTick) -> bool:
    async with unit_of_work(db, source) as uow:
        return await commands.end_standstill(uow, tick)


async def mark_notice_overdue(db: Database, source: str, tick: ClockTick) -> bool:
    async with unit_of_work(db, source) as uow:
        return await commands.mark_notice_overdue(uow, tick)


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    """The activities bound to this runtime's database."""
    db, source = runtime.db, runtime.source

    @activity.defn(name=REMIND_ACTIVITY)
    async def remind(check: ClockCheck) -> ClockState:
        return await remind_evaluators(db, source, check)

    @activity.defn(name=OVERDUE_ACTIVITY)
    async def overdue(check: ClockCheck) -> ClockState:
        return await mark_overdue(db, source, check)

    @activity.defn(name=CLOSE_ACTIVITY)
    async def close(check: CompetitionCheck) -> CompetitionState:
        return await close_and_evaluate(db, source, check)

    @activity.defn(name=DECLARATION_OVERDUE_ACTIVITY)
    async def declaration_overdue(check: DeclarationCheck) -> bool:
        return await mark_declaration_overdue(db, source, check)

    @activity.defn(name=END_STANDSTILL_ACTIVITY)
    async def standstill(tick: ClockTick) -> bool:
        return await end_standstill(db, source, tick)

    @activity.defn(name=NOTICE_OVERDUE_ACTIVITY)
    async def notice_overdue(tick: ClockTick) -> bool:
        return await mark_notice_overdue(db, source, tick)

    return [remind, overdue, close, declaration_overdue, standstill, notice_overdue]
