"""A provider's person chooses which e-mails they receive (issue 15). Only their own
choice: the subject and provider come from the token, never from the request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from services.monitoring.commands.notifications import preferences_view, save_preferences
from services.monitoring.models import NotificationSubscription
from services.monitoring.policy import ALLOWED
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["notifications"])


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=254)
    kinds: list[str] = Field(default_factory=list, max_length=20)


@router.get("/notification-preferences/mine")
async def my_preferences(
    actor: Actor = ALLOWED, runtime: ServiceRuntime = Depends(runtime_of)
) -> dict[str, Any]:
    """The caller's e-mail address and chosen kinds, and every kind on offer."""
    async with runtime.db.session() as session:
        row = await session.get(NotificationSubscription, actor.id)
    return preferences_view(row, actor)


@router.put("/notification-preferences/mine")
async def save_my_preferences(
    body: PreferencesIn, actor: Actor = ALLOWED, runtime: ServiceRuntime = Depends(runtime_of)
) -> dict[str, Any]:
    """Replace the caller's choice; an empty `kinds` stops every e-mail."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await save_preferences(uow, actor, body.email, body.kinds)
        view = preferences_view(row, actor)
    return view
