"""What every monitoring router shares: a state rule as a 409, the
request base and the answer to evidence entry."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from services.monitoring import domain
from shared import clock
from shared.api_types import RequestBody
from shared.errors import Conflict, DomainError


def status_rule(exc: domain.DomainError) -> DomainError:
    # A transition the alert's current state forbids is a clash with state: 409.
    return (
        Conflict(exc.field, exc.rule) if exc.field == "status" else DomainError(exc.field, exc.rule)
    )


class Body(RequestBody):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Created(BaseModel):
    id: str
    alerts_raised: list[str]


def today() -> date:
    return clock.now().date()  # the wall clock, or the training clock
