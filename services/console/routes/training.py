"""The training clock's control page (`dps up --training` only): how far the rehearsal's
clock is ahead, and a form to move it on by some days. Outside training the page does not
exist (404); production cannot run in training mode at all (CommonSettings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.render import page
from services.console.settings import ConsoleSettings
from services.console.web import checked_form, person_of
from shared import clock, temporal, training
from shared.logging import get_logger

router = APIRouter()
log = get_logger(__name__)
STAFF = ("commissioner", "monitoring_officer", "admin")
MAX_DAYS = clock.MAX_STEP.days
LABELS = {"days": "Days to move the clock on"}


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    if not settings.training:
        raise _NotTraining()
    return settings


class _NotTraining(Exception):
    pass


async def _show(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    days: str = "",
) -> Response:
    settings = _settings(request)
    offset = clock.read_offset(settings.data_dir)
    result: Any = request.session.pop("training_result", None)
    return page(
        request,
        "training/clock.html",
        status_code,
        errors=errors or [],
        offset_days=offset / timedelta(days=1),
        training_now=clock.now_with(offset),
        result=result if isinstance(result, dict) else None,
        days=days,
        max_days=MAX_DAYS,
    )


@router.get("/training")
async def training_page(request: Request) -> Response:
    person_of(request, *STAFF)
    return await _show(request)


@router.post("/training")
async def advance(request: Request) -> Response:
    person = person_of(request, *STAFF)
    settings = _settings(request)
    form = await checked_form(request)
    raw = str(form.get("days", "")).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        message = f"Enter a whole number of days from 1 to {MAX_DAYS}"
        errors = [{"text": message, "href": "#days", "field": "days"}]
        return await _show(request, 400, errors, raw)
    step = timedelta(days=int(raw))
    try:
        client = await temporal.connect(
            settings.temporal_address, settings.temporal_namespace, settings=settings
        )
    except Exception as exc:
        log.warning("console.training.temporal_unavailable", error=repr(exc))
        return page(request, "errors/unavailable.html", 503, service="Temporal (workflow clocks)")
    result = await training.advance(client, settings.data_dir, step)
    log.info(
        "console.training.advanced",
        by=person.subject,
        days=int(raw),
        moved=len(result.moved),
        failed=len(result.failed),
    )
    request.session["training_result"] = {
        "days": int(raw),
        "moved": len(result.moved),
        "failed": sorted(result.failed)[:20],  # workflow ids only: no payloads
    }
    return RedirectResponse("/training", status_code=303)


def add_not_training_page(app: Any) -> None:
    @app.exception_handler(_NotTraining)
    async def not_training(request: Request, _: Exception) -> Response:
        return page(request, "errors/not_found.html", 404)
