"""Requests to participate: submit, decide (admitted members invited to open call-offs
as late joiners), extend the evaluation period."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.procurement import domain as d
from services.procurement import events
from services.procurement.commands.call_offs import invite_late_joiners
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
from services.procurement.store import (
    load_memberships,
    load_scheme_row,
    locked_application,
    registered_provider,
)
from shared.errors import Conflict
from shared.unit_of_work import Actor, UnitOfWork


@dataclass(frozen=True)
class ApplicationForm:
    """What a provider sends to a scheme, as a draft or as its request to participate."""

    scheme_id: str
    provider_id: str
    requested_categories: Sequence[str]
    answers: Mapping[str, str]


async def submit_application(
    uow: UnitOfWork, actor: Actor, form: ApplicationForm, now: datetime
) -> ApplicationRow:
    """A request to participate; the provider's draft becomes it (deleted)."""
    scheme_id, provider_id = form.scheme_id, form.provider_id
    scheme = scheme_to_domain(await load_scheme_row(uow, scheme_id))
    provider = await registered_provider(uow, provider_id)
    # Documents and register activity are selection criteria, decided within the
    # clock; only a suspended or removed provider is refused here.
    d.require_may_apply(provider.status)
    application = d.submit_application(
        scheme,
        application_id=str(uuid.uuid4()),
        provider_id=provider_id,
        requested_categories=list(form.requested_categories),
        answers=dict(form.answers),
        existing_memberships=await load_memberships(uow, scheme_id),
        now=now,
    )
    row = application_row(application)
    uow.session.add(row)
    # The draft becomes the request: gone in the same transaction as the submission.
    draft = await uow.session.get(ApplicationDraftRow, (scheme_id, provider_id))
    if draft is not None:
        await uow.session.delete(draft)
    uow.emit(events.application_submitted(row))
    uow.audit(actor, "application.submitted", "application", row.id, scheme_id=scheme_id)
    return row


async def _undecided(uow: UnitOfWork, application_id: str) -> ApplicationRow:
    row = await locked_application(uow, application_id)
    if row.status == "decided":
        raise Conflict("application_id", "already_decided: the application was decided")
    return row


@dataclass(frozen=True)
class Decided:
    row: ApplicationRow
    decision: DecisionRow
    invited_to: list[str]


async def decide_application(
    uow: UnitOfWork,
    actor: Actor,
    application_id: str,
    assessments: Mapping[str, d.QuestionAssessment],
    refused_categories: Mapping[str, str],
    now: datetime,
) -> Decided:
    """Record the decision (who decided, every criterion); admitted members are invited
    to open call-offs of their categories as late joiners."""
    row = await _undecided(uow, application_id)
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
        assessments=dict(assessments),
        decided_by=actor.id,
        now=now,
        refused_categories=dict(refused_categories),
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
    return Decided(row, decision, invited_to)


async def extend_application(
    uow: UnitOfWork, actor: Actor, application_id: str, reason: str, now: datetime
) -> ApplicationRow:
    """Extend the evaluation once, to 15 working days, with a recorded reason."""
    row = await _undecided(uow, application_id)
    scheme = scheme_to_domain(await load_scheme_row(uow, row.scheme_id))
    extended = d.extend_evaluation(
        application_to_domain(row), scheme, reason=reason, by=actor.id, now=now
    )
    row.evaluation_working_days = extended.evaluation_working_days
    row.extension_reason, row.extended_by, row.extended_at = reason, actor.id, now
    row.due_on, row.due_at, row.reminder_at = (
        extended.due_on,
        extended.due_at,
        extended.reminder_at,
    )
    uow.session.add(row)
    uow.emit(events.application_extended(row, reason, actor.id, now))
    uow.audit(actor, "application.extended", "application", row.id, reason=reason)
    return row


async def save_draft(
    uow: UnitOfWork, actor: Actor, form: ApplicationForm, now: datetime
) -> tuple[ApplicationDraftRow, str]:
    """Keep (replace) the provider's draft application to the scheme (not evaluated, no
    clock: d.DRAFT_SOURCE); returns the draft and the scheme's title."""
    scheme_id, provider_id = form.scheme_id, form.provider_id
    scheme = await load_scheme_row(uow, scheme_id)
    draft = d.save_draft(
        scheme_to_domain(scheme),
        provider_id=provider_id,
        requested_categories=form.requested_categories,
        answers=form.answers,
        now=now,
    )
    row = await uow.session.get(ApplicationDraftRow, (scheme_id, provider_id))
    if row is None:
        row = ApplicationDraftRow(scheme_id=scheme_id, provider_id=provider_id)
    row.requested_categories = list(draft.requested_categories)
    row.answers = dict(draft.answers)
    row.saved_at = now
    uow.session.add(row)
    uow.audit(actor, "application.draft_saved", "scheme", scheme_id)
    return row, scheme.title
