"""HTTP routes of procurement's requests to participate: submit, decide, and extend the
evaluation period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.clocks import signal, start_application_workflow
from services.procurement.commands import application_clock
from services.procurement.commands import applications as commands
from services.procurement.models import ApplicationRow, DecisionRow
from services.procurement.policy import ALLOWED
from services.procurement.workflow_types import application_workflow_id
from shared.api_types import RequestBody
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


# =============================================================== applications


class ApplicationIn(RequestBody):
    requested_categories: list[str] = Field(min_length=1)
    answers: dict[str, str] = {}


def application_view(row: ApplicationRow, decision: DecisionRow | None) -> dict[str, Any]:
    return {
        "application_id": row.id,
        "scheme_id": row.scheme_id,
        "provider_id": row.provider_id,
        "requested_categories": row.requested_categories,
        "status": row.status,
        "submitted_at": row.submitted_at,
        "evaluation_working_days": row.evaluation_working_days,
        "evaluation_due_on": row.due_on,
        "evaluation_due_at": row.due_at,
        "reminder_at": row.reminder_at,
        "extension_reason": row.extension_reason,
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome,
            "admitted_categories": decision.admitted_categories,
            "refused_categories": decision.refused_categories,
            "criteria": decision.criteria,
            "quality_score": decision.quality_score,
            "lot_code": decision.lot_code,
            "decided_by": decision.decided_by,
            "decided_at": decision.decided_at,
            "decided_late": decision.decided_late,
        },
    }


@router.post("/schemes/{scheme_id}/applications", status_code=status.HTTP_201_CREATED)
async def submit_application(
    scheme_id: str, body: ApplicationIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """A request to participate by the provider the token names (its own only)."""
    form = commands.ApplicationForm(
        scheme_id, own_provider(actor), body.requested_categories, body.answers
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.submit_application(uow, actor, form, current_time())
    await start_application_workflow(runtime, application_clock(row))
    return application_view(row, None)


class AssessmentIn(RequestBody):
    passed: bool | None = None
    score: Decimal | None = None
    note: str = ""


class DecisionIn(RequestBody):
    assessments: dict[str, AssessmentIn] = {}
    refused_categories: dict[str, str] = {}


@router.post("/applications/{application_id}/decision")
async def decide_application(
    application_id: str, body: DecisionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Record the decision (who decided, every criterion); admitted members are invited
    to open call-offs of their categories as late joiners."""
    assessments = {
        k: d.QuestionAssessment(a.passed, a.score, a.note) for k, a in body.assessments.items()
    }
    async with unit_of_work(runtime.db, runtime.source) as uow:
        done = await commands.decide_application(
            uow, actor, application_id, assessments, body.refused_categories, current_time()
        )
    await signal(runtime, application_workflow_id(done.row.id), "decide")
    view = application_view(done.row, done.decision)
    view["late_joiner_invitations"] = done.invited_to
    return view


class ExtensionIn(RequestBody):
    reason: str = Field(min_length=1)


@router.post("/applications/{application_id}/extension")
async def extend_application(
    application_id: str, body: ExtensionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Extend the evaluation once, to 15 working days, with a recorded reason."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.extend_application(
            uow, actor, application_id, body.reason, current_time()
        )
    await signal(runtime, application_workflow_id(row.id), "extend", application_clock(row))
    return application_view(row, None)
