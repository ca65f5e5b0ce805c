"""What every route does once the caller is authenticated, before its own work: count the
caller's writes (shared.ratelimit) and claim a POST's Idempotency-Key (shared.idempotency).

One dependency, added to every router where shared.runtime includes it, so no route
has to remember either.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, Request

from shared.auth import current_actor
from shared.edge import EarlyAnswer
from shared.idempotency import claim
from shared.ratelimit import RateLimits, too_many
from shared.unit_of_work import Actor

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def guard(request: Request, actor: Actor = Depends(current_actor)) -> None:
    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is not None and request.method in WRITES:
        wait = await limits.hit(limits.writes, "write", actor.id)
        if wait is not None:
            raise EarlyAnswer(too_many(wait, "writes by this client"))
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        retention = timedelta(hours=runtime.settings.idempotency_retention_hours)
        await claim(request, actor.id, runtime.db, retention)
