"""What every router of procurement shares: the runtime dependency, the clock and the
signed-in provider. Domain refusals need no translation: the domain raises the shared
DomainError (422) or Conflict (409) that shared.http answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from shared import clock
from shared.errors import DomainError
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]


def current_time() -> datetime:
    return clock.now()  # the wall clock, or the training clock (shared.clock)


def own_provider(actor: Actor) -> str:
    if not actor.provider_id:
        raise DomainError("provider_id", "required: the token names no provider")
    return actor.provider_id
