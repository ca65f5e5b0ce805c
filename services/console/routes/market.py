"""The monitoring officers' market dashboard: unresolved alerts by severity and age,
providers by latest Ofsted judgement, KPI returns missing, as charts with tables."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from services.console.charts import Chart, bar_chart
from services.console.clients import watch
from services.console.render import page
from services.console.web import api_for, person_of

router = APIRouter()
WATCHERS = ("monitoring_officer", "commissioner")
SEVERITIES = ("critical", "warning", "info")
AGES = ("Under a day", "1 to 7 days", "8 to 30 days", "Over 30 days")
JUDGEMENTS = ("outstanding", "good", "requires_improvement", "inadequate")


def age_band(raised_at: str, now: datetime) -> str:
    raised = datetime.fromisoformat(raised_at)
    days = (now - (raised if raised.tzinfo else raised.replace(tzinfo=UTC))).days
    return AGES[0] if days < 1 else AGES[1] if days <= 7 else AGES[2] if days <= 30 else AGES[3]


def _counted(title: str, counts: Counter[str], order: tuple[str, ...]) -> Chart:
    keys = list(order) + sorted(k for k in counts if k not in order)
    return bar_chart(
        title,
        [(k.replace("_", " ").capitalize(), Decimal(counts[k]), str(counts[k])) for k in keys],
    )


def market_view(
    alerts: list[dict[str, Any]], providers: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    names = {p["provider_id"]: p["name"] for p in providers}
    missing = Counter(
        names.get(a.get("provider_id") or "", a.get("provider_id") or "No provider")
        for a in alerts
        if a.get("evidence_kind") == "kpi_return_missing"
    )
    by_age: dict[str, Counter[str]] = {s: Counter() for s in SEVERITIES}
    for a in alerts:
        by_age.setdefault(a["severity"], Counter())[age_band(a["raised_at"], now)] += 1
    return {
        "severity": _counted(
            "Unresolved alerts by severity", Counter(a["severity"] for a in alerts), SEVERITIES
        ),
        "age": _counted(
            "Unresolved alerts by age",
            Counter(age_band(a["raised_at"], now) for a in alerts),
            AGES,
        ),
        "by_age": by_age,
        "judgement": _counted(
            "Providers by latest Ofsted judgement",
            Counter(p.get("ofsted_judgement") or "not_known" for p in providers),
            (*JUDGEMENTS, "not_known"),
        ),
        "missing": bar_chart(
            "KPI returns missing, by provider",
            [(name, Decimal(n), str(n)) for name, n in missing.most_common()],
        ),
        "missing_total": sum(missing.values()),
    }


@router.get("/market")
async def market(request: Request) -> Response:
    person = person_of(request, *WATCHERS)
    api = api_for(request, person)
    alerts = await watch.unresolved_alerts(api)
    providers = await watch.known_providers(api)
    view = market_view(alerts, providers, datetime.now(UTC))
    return page(
        request,
        "placements/market.html",
        view=view,
        ages=AGES,
        alerts_total=len(alerts),
        providers_total=len(providers),
    )
