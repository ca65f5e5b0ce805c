"""Monitoring's API (services/monitoring/api.py)."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "monitoring"


async def alerts(
    api: Api,
    *,
    status: str | None = None,
    provider_id: str | None = None,
    severity: str | None = None,
) -> list[dict[str, Any]]:
    chosen = {"status": status, "provider_id": provider_id, "severity": severity}
    params = {k: v for k, v in chosen.items() if v}
    found: list[dict[str, Any]] = await api.get(SERVICE, "/alerts", params)
    return found


async def alert(api: Api, alert_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/alerts/{segment(alert_id)}")
    return found


async def acknowledge(api: Api, alert_id: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(SERVICE, f"/alerts/{segment(alert_id)}/acknowledge")
    return done


async def assign(api: Api, alert_id: str, officer_id: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/alerts/{segment(alert_id)}/assign", {"officer_id": officer_id}
    )
    return done


async def resolve(api: Api, alert_id: str, outcome: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/alerts/{segment(alert_id)}/resolve", {"outcome": outcome}
    )
    return done


async def dashboard(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, "/dashboard")
    return found


async def my_notifications(api: Api) -> dict[str, Any]:
    """The signed-in provider person's e-mail choice and the kinds on offer."""
    found: dict[str, Any] = await api.get(SERVICE, "/notification-preferences/mine")
    return found


async def save_my_notifications(api: Api, email: str, kinds: list[str]) -> dict[str, Any]:
    done: dict[str, Any] = await api.put(
        SERVICE, "/notification-preferences/mine", {"email": email or None, "kinds": kinds}
    )
    return done
