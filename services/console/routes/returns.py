"""Statutory returns, for the commissioner: the SEN2 placement detail for a census year
(its validation against the DfE specification's rules: the rows, each broken rule with
its field and source; the XML and JSON downloads) and the Local Government Transparency
Code's quarterly list of contracts over £5,000 (CSV). Placements makes both
(GET /returns/sen2, GET /returns/transparency-contracts.csv; docs/law/returns.md); a year
or quarter it would refuse is shown as a form error here, not sent."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from services.console.clients import ApiRefused, placements
from services.console.render import page
from services.console.web import api_for, field_errors, person_of

router = APIRouter()
# SEN2 is the commissioner's (and the case system's) in services/placements/policy.py;
# the page is the commissioner's, who makes both returns.
COMMISSIONER = "commissioner"
# As placements accepts them (services/placements/api/returns.py).
FIRST_YEAR, LAST_YEAR = 2023, 2100
QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
LABELS = {"year": "Census year", "quarter": "Quarter"}
FORMATS = {"xml": "application/xml", "json": "application/json"}


def year_problem(given: str) -> str | None:
    if not given:
        return "Enter the census year, for example 2027"
    if not given.isdigit() or len(given) != 4:
        return "Census year must be a year in 4 digits, for example 2027"
    if not FIRST_YEAR <= int(given) <= LAST_YEAR:
        return f"Census year must be between {FIRST_YEAR} and {LAST_YEAR}"
    return None


def quarter_of(given: str) -> str | None:
    """The quarter as placements takes it (2026-Q3), or None when it is not one."""
    found = QUARTER.match(given)
    return f"{found.group(1)}-Q{found.group(2)}" if found else None


def _page(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    year: str = "",
    quarter: str = "",
    sen2: dict[str, Any] | None = None,
) -> Response:
    return page(
        request,
        "returns/page.html",
        status_code,
        errors=errors or [],
        form={"year": year, "quarter": quarter},
        sen2=sen2,
    )


@router.get("/returns")
async def returns_page(request: Request, year: str = Query(default="", max_length=20)) -> Response:
    """The returns; with a year, that year's SEN2 and its validation."""
    person = person_of(request, COMMISSIONER)
    given = year.strip()
    if "year" not in request.query_params:
        return _page(request)
    if (problem := year_problem(given)) is not None:
        errors = [{"text": problem, "href": "#year", "field": "year"}]
        return _page(request, 400, errors, year=given)
    try:
        sen2 = await placements.sen2(api_for(request, person), int(given))
    except ApiRefused as refused:
        if refused.status == 404:
            raise
        return _page(request, 400, field_errors(refused.errors, LABELS), year=given)
    return _page(request, year=given, sen2=sen2)


@router.get("/returns/sen2.{format}")
async def sen2_download(
    request: Request, format: str, year: str = Query(default="", max_length=20)
) -> Response:
    """The SEN2 return as a file: the specification's XML, or JSON."""
    person = person_of(request, COMMISSIONER)
    given = year.strip()
    if format not in FORMATS:
        raise ApiRefused(404, [{"field": "format", "rule": "not_found"}])
    if (problem := year_problem(given)) is not None:
        errors = [{"text": problem, "href": "#year", "field": "year"}]
        return _page(request, 400, errors, year=given)
    found = await placements.sen2_file(api_for(request, person), int(given), format)
    return Response(
        found.content,
        media_type=FORMATS[format],
        headers={
            "Content-Disposition": f'attachment; filename="sen2-{given}.{format}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/returns/transparency-contracts.csv")
async def transparency_download(
    request: Request, quarter: str = Query(default="", max_length=20)
) -> Response:
    """The Transparency Code's contracts over £5,000 in the quarter, as the CSV."""
    person = person_of(request, COMMISSIONER)
    given = quarter.strip()
    chosen = quarter_of(given)
    if chosen is None:
        text = (
            "Enter the quarter" if not given else "Quarter must be like 2026-Q3 (July to September)"
        )
        errors = [{"text": text, "href": "#quarter", "field": "quarter"}]
        return _page(request, 400, errors, quarter=given)
    found = await placements.transparency_contracts(api_for(request, person), chosen)
    return Response(
        found.content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="transparency-contracts-{chosen}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
