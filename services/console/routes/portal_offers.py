"""Block place offers in the provider portal: a provider sees the places of its block
contracts offered to children (the need's category, year group and start, never the
child's reference) and accepts or declines each, saying why when declining.

Placements narrows every answer to the provider the token names: another provider's offer
id is answered 404 (the not-found page), never shown."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused
from services.console.clients import blocks as blocks_api
from services.console.render import page
from services.console.routes.portal import provider_of
from services.console.web import api_for, checked_form, form_api

router = APIRouter()
REASON_MAX = 1000
DECISIONS = ("accepted", "declined")


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


@router.get("/portal/block-offers")
async def offers_page(request: Request) -> Response:
    person, _ = provider_of(request)
    found = await blocks_api.my_offers(api_for(request, person))
    items = found["items"]
    return page(
        request,
        "portal/offers.html",
        open_offers=[o for o in items if o["status"] == "open"],
        past_offers=[o for o in items if o["status"] != "open"],
    )


async def _show(
    request: Request,
    offer_id: str,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    person, _ = provider_of(request)
    offer = await blocks_api.offer(api_for(request, person), offer_id)
    return page(
        request,
        "portal/offer.html",
        status_code,
        offer=offer,
        errors=errors or [],
        form=form or {},
        done=request.query_params.get("done", ""),
    )


@router.get("/portal/block-offers/{offer_id}")
async def offer_page(request: Request, offer_id: str) -> Response:
    return await _show(request, offer_id)


def _refused(refused: ApiRefused) -> list[dict[str, str]]:
    ids = {"decision": "decision", "reason": "reason"}
    words = {
        "offer_expired": "The answer-by date has passed: the council will decide",
        "offer_accepted": "This offer was already accepted",
        "offer_declined": "This offer was already declined",
        "offer_withdrawn": "The council has withdrawn this offer",
        "required_to_decline": "Enter why you are declining the place",
    }
    return [
        _problem(
            ids.get(e["field"].split(".")[-1], "decision"),
            words.get(e["rule"]) or e.get("message") or e["rule"].replace("_", " "),
        )
        for e in refused.errors
    ]


@router.post("/portal/block-offers/{offer_id}/decision")
async def offer_decision(request: Request, offer_id: str) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    values = {
        "decision": str(form.get("decision", "")),
        "reason": str(form.get("reason", "")).strip(),
    }
    errors = []
    if values["decision"] not in DECISIONS:
        errors.append(_problem("decision", "Select whether you accept or decline the place"))
    if values["decision"] == "declined" and not values["reason"]:
        errors.append(_problem("reason", "Enter why you are declining the place"))
    if len(values["reason"]) > REASON_MAX:
        errors.append(_problem("reason", f"Reason must be {REASON_MAX} characters or fewer"))
    if errors:
        return await _show(request, offer_id, 400, errors, values)
    body: dict[str, Any] = {"decision": values["decision"]}
    if values["reason"]:
        body["reason"] = values["reason"]
    try:
        await blocks_api.decide_offer(form_api(request, person, form), offer_id, body)
    except ApiRefused as refused:
        if refused.status in (403, 404):
            raise
        return await _show(request, offer_id, 400, _refused(refused), values)
    return RedirectResponse(
        f"/portal/block-offers/{offer_id}?done={values['decision']}", status_code=303
    )
