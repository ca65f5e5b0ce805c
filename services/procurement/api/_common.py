"""What every router of procurement shares: the runtime dependency, the clock and the
translation of domain refusals to 422/409 (until the domain raises shared Conflict)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends

from services.procurement import domain as d
from shared import clock
from shared.errors import Conflict, DomainError
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]

# Rules that clash with the current state rather than with the request: 409.
STATE_RULES = {
    d.Rule.INVALID_TRANSITION,
    d.Rule.ALREADY_DECIDED,
    d.Rule.ALREADY_MEMBER,
    d.Rule.EXTENSION_ALREADY_USED,
    d.Rule.COMPETITION_NOT_OPEN,
    d.Rule.APPROVER_SCORED_BID,
    d.Rule.AMENDMENT_REFUSED,
    d.Rule.CLARIFICATIONS_CLOSED,
    d.Rule.CLARIFICATION_ALREADY_ANSWERED,
    d.Rule.ANSWER_AFTER_DEADLINE,
    d.Rule.WITHDRAWAL_AFTER_DEADLINE,
    d.Rule.NO_LIVE_BID,
    d.Rule.REPLY_BY_PASSED,
    d.Rule.APPLICATION_CLARIFICATION_ANSWERED,
}


@contextmanager
def rules() -> Iterator[None]:
    """Turn a domain refusal into the API's 422 (or 409) naming field and rule."""
    try:
        yield
    except d.DomainError as exc:
        cls = Conflict if exc.rule in STATE_RULES else DomainError
        raise cls(exc.field, f"{exc.rule}: {exc.message}") from exc


def current_time() -> datetime:
    return clock.now()  # the wall clock, or the training clock (shared.clock)


def own_provider(actor: Actor) -> str:
    if not actor.provider_id:
        raise DomainError("provider_id", "required: the token names no provider")
    return actor.provider_id
