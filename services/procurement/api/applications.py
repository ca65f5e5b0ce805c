"""HTTP routes of procurement's requests to participate: submit, decide, and extend the
evaluation period."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field

from services.procurement import domain as d
from services.procurement import events
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.clocks import (
    signal,
    start_application_workflow,
)
from services.procurement.commands import (
    application_clock,
    invite_late_joiners,
)
from services.procurement.models import (
    ApplicationDraftRow,
    ApplicationRow,
    DecisionRow,
    ProviderRow,
    application_row,
    application_to_domain,
    decision_row,
    documents_to_domain,
    membership_row,
    provider_to_domain,
    scheme_to_domain,
)
from services.procurement.policy import ALLOWED
from services.procurement.store import (
    load_memberships,
    load_scheme_row,
    locked_application,
    registered_provider,
)
from services.procurement.workflow_types import application_workflow_id
from shared.api_types import RequestBody
from shared.contracts import procurement_v1
from shared.errors import Conflict
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
    provider_id = own_provider(actor)
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        scheme = scheme_to_domain(await load_scheme_row(uow, scheme_id))
        provider = await registered_provider(uow, provider_id)
        # Documents and register activity are selection criteria, decided within the
        # clock; only a suspended or removed provider is refused here.
        d.require_may_apply(provider.status)
        application = d.submit_application(
            scheme,
            application_id=str(uuid.uuid4()),
            provider_id=provider_id,
            requested_categories=body.requested_categories,
            answers=body.answers,
            existing_memberships=await load_memberships(uow, scheme_id),
            now=now,
        )
        row = application_row(application)
        uow.session.add(row)
        # The draft becomes the request: gone in the same transaction as the submission.
        draft = await uow.session.get(ApplicationDraftRow, (scheme_id, provider_id))
        if draft is not None:
            await uow.session.delete(draft)
        uow.emit(
            procurement_v1.ApplicationSubmitted(
                application_id=row.id,
                scheme_id=scheme_id,
                provider_id=provider_id,
                requested_categories=row.requested_categories,
                submitted_at=now,
                evaluation_due_on=row.due_on,
                evaluation_due_at=row.due_at,
                reminder_at=row.reminder_at,
            ),
        )
        uow.audit(actor, "application.submitted", "application", row.id, scheme_id=scheme_id)
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
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await locked_application(uow, application_id)
        if row.status == "decided":
            raise Conflict("application_id", "already_decided: the application was decided")
        scheme = scheme_to_domain(await load_scheme_row(uow, row.scheme_id))
        provider = await uow.session.get(ProviderRow, row.provider_id)
        snapshot = (
            provider_to_domain(provider)
            if provider
            else d.ProviderSnapshot(row.provider_id, active=False)
        )
        result = d.decide_application(
            application_to_domain(row),
            scheme,
            provider=snapshot,
            documents=documents_to_domain(provider),
            assessments={
                k: d.QuestionAssessment(a.passed, a.score, a.note)
                for k, a in body.assessments.items()
            },
            decided_by=actor.id,
            now=now,
            refused_categories=body.refused_categories,
        )
        decision = decision_row(result.application)
        row.status = "decided"
        uow.session.add_all([row, decision])
        for m in result.memberships:
            uow.session.add(membership_row(m))
        for event in events.application_decided(result, actor.id):
            uow.emit(event)
        uow.audit(actor, "application.decided", "application", row.id, outcome=decision.outcome)
        await uow.session.flush()
        invited_to = await invite_late_joiners(uow, scheme, result.memberships, now)
    await signal(runtime, application_workflow_id(row.id), "decide")
    view = application_view(row, decision)
    view["late_joiner_invitations"] = invited_to
    return view


class ExtensionIn(RequestBody):
    reason: str = Field(min_length=1)


@router.post("/applications/{application_id}/extension")
async def extend_application(
    application_id: str, body: ExtensionIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Extend the evaluation once, to 15 working days, with a recorded reason."""
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await locked_application(uow, application_id)
        if row.status == "decided":
            raise Conflict("application_id", "already_decided: the application was decided")
        scheme = scheme_to_domain(await load_scheme_row(uow, row.scheme_id))
        extended = d.extend_evaluation(
            application_to_domain(row), scheme, reason=body.reason, by=actor.id, now=now
        )
        row.evaluation_working_days = extended.evaluation_working_days
        row.extension_reason, row.extended_by, row.extended_at = body.reason, actor.id, now
        row.due_on, row.due_at, row.reminder_at = (
            extended.due_on,
            extended.due_at,
            extended.reminder_at,
        )
        uow.session.add(row)
        uow.emit(
            procurement_v1.ApplicationExtended(
                application_id=row.id,
                scheme_id=row.scheme_id,
                provider_id=row.provider_id,
                reason=body.reason,
                extended_by=actor.id,
                extended_at=now,
                evaluation_due_on=row.due_on,
                evaluation_due_at=row.due_at,
            ),
        )
        uow.audit(actor, "application.extended", "application", row.id, reason=body.reason)
    await signal(runtime, application_workflow_id(row.id), "extend", application_clock(row))
    return application_view(row, None)
