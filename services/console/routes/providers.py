"""The register: a list of providers and a provider's page (details, documents, latest
inspection, open alerts)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from services.console.clients import ServiceUnavailable, registry
from services.console.clients import monitoring as monitoring_api
from services.console.clients.api import Api
from services.console.render import page
from services.console.web import api_for, person_of, together

router = APIRouter()
READERS = ("commissioner", "admin", "monitoring_officer")
PAGE_SIZE = 25
STATUSES = ("registered", "active", "suspended", "removed")


@router.get("/providers")
async def provider_list(
    request: Request,
    status: str = Query(default="", max_length=20),
    offset: int = Query(default=0, ge=0, le=100_000),
) -> Response:
    person = person_of(request, *READERS)
    chosen = status if status in STATUSES else ""
    found = await registry.providers(
        api_for(request, person), status=chosen or None, limit=PAGE_SIZE, offset=offset
    )
    return page(
        request,
        "providers.html",
        found=found,
        status=chosen,
        statuses=STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
    )


@router.get("/providers/{provider_id}")
async def provider_page(request: Request, provider_id: str) -> Response:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    provider, alerts = await together(
        registry.provider(api, provider_id),
        _open_alerts(api, provider_id),
    )
    return page(request, "provider.html", provider=provider, alerts=alerts)


async def _open_alerts(api: Api, provider_id: str) -> list[dict[str, object]] | None:
    try:
        found: list[dict[str, object]] = await monitoring_api.alerts(
            api, status="open", provider_id=provider_id
        )
    except ServiceUnavailable:
        return None  # the page still shows the register's facts
    return found
