"""Spend: one financial year's committed spend from placements' ledger (GET /spend) by need
type and provider, on- and off-contract, against the budget monitoring holds, as charts
with tables, and a CSV download."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from services.console.charts import Chart, bar_chart, money
from services.console.clients import ServiceUnavailable
from services.console.clients import casework as casework_api
from services.console.render import page
from services.console.web import api_for, person_of

router = APIRouter()
READERS = ("commissioner", "monitoring_officer")  # placements' and monitoring's policies


def this_financial_year() -> int:
    # April to March: 2025 is 2025/26.
    today = datetime.now(UTC).date()
    return today.year if today.month >= 4 else today.year - 1


def contract_figures(spend: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """The three spend figures: on contract, off contract on a lawful basis (a direct
    award the law allows, below threshold), and off contract with none (non-compliant)."""
    return [
        ("On contract", Decimal(spend["on_contract"])),
        ("Off contract, lawful basis", Decimal(spend.get("off_contract_lawful", "0"))),
        (
            "Off contract, non-compliant",
            Decimal(spend.get("off_contract_non_compliant", spend["off_contract"])),
        ),
    ]


def _charts(spend: dict[str, Any], budget: Decimal | None) -> dict[str, Chart]:
    total = Decimal(spend["total"])
    against = [("Committed spend", total, money(total))]
    if budget is not None:
        against.insert(0, ("Budget", budget, money(budget)))
    return {
        "budget": bar_chart("Spend against budget", against),
        "contract": bar_chart(
            "On and off contract",
            [(label, amount, money(amount)) for label, amount in contract_figures(spend)],
        ),
        "need": bar_chart(
            "By need type",
            [
                (need, Decimal(v["amount"]), money(v["amount"]))
                for need, v in spend["by_need_type"].items()
            ],
        ),
        "provider": bar_chart(
            "By provider",
            sorted(
                [
                    (provider, Decimal(amount), money(amount))
                    for provider, amount in spend["by_provider"].items()
                ],
                key=lambda bar: -bar[1],
            ),
        ),
    }


async def _year(request: Request, year: int) -> tuple[dict[str, Any], Decimal | None, bool]:
    person = person_of(request, *READERS)
    api = api_for(request, person)
    spend = await casework_api.spend(api, year)
    try:
        budgets = await casework_api.budgets(api)
    except ServiceUnavailable:
        return spend, None, False  # the spend still shows; the page says budgets are down
    budget = next((b["amount"] for b in budgets if b["financial_year"] == year), None)
    return spend, None if budget is None else Decimal(budget), True


@router.get("/spend")
async def spend_page(
    request: Request, year: int | None = Query(default=None, ge=2000, le=2100)
) -> Response:
    chosen = year or this_financial_year()
    spend, budget, budgets_up = await _year(request, chosen)
    total = Decimal(spend["total"])
    return page(
        request,
        "placements/spend.html",
        spend=spend,
        year=chosen,
        years=list(range(this_financial_year() + 1, this_financial_year() - 6, -1)),
        budget=budget,
        budgets_up=budgets_up,
        used_percent=None if not budget else (total * 100 / budget).quantize(Decimal("0.1")),
        remaining=None if budget is None else budget - total,
        charts=_charts(spend, budget),
        figures=contract_figures(spend),
        bases=spend.get("by_basis", {}),
        money=money,
    )


@router.get("/spend.csv")
async def spend_csv(
    request: Request, year: int | None = Query(default=None, ge=2000, le=2100)
) -> Response:
    chosen = year or this_financial_year()
    spend, budget, _ = await _year(request, chosen)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["financial_year", "breakdown", "item", "amount", "placements"])
    label = spend["label"]
    writer.writerow([label, "total", "all", spend["total"], ""])
    writer.writerow([label, "budget", "all", "" if budget is None else budget, ""])
    writer.writerow([label, "contract", "on contract", spend["on_contract"], ""])
    writer.writerow([label, "contract", "off contract", spend["off_contract"], ""])
    writer.writerow(
        [label, "contract", "unfilled block places", spend["unfilled_block_places"], ""]
    )
    for item, amount in contract_figures(spend)[1:]:
        writer.writerow([label, "contract", item.lower(), amount, ""])
    for b in spend.get("by_basis", {}).values():
        writer.writerow([label, "legal basis", b["label"], b["amount"], ""])
    for need, v in spend["by_need_type"].items():
        writer.writerow([label, "need type", need, v["amount"], v["placements"]])
    for provider, amount in spend["by_provider"].items():
        writer.writerow([label, "provider", provider, amount, ""])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="spend-{chosen}.csv"'},
    )
