"""HTTP routes of monitoring, a router per resource. `routers` keeps today's order (the
OpenAPI document lists paths in it)."""

from __future__ import annotations

from fastapi import APIRouter

from services.monitoring.api import (
    alerts,
    dashboard,
    evidence,
    kpi_due,
    notifications,
    provider_file,
    recommendations,
)

routers: list[APIRouter] = [
    evidence.router,
    alerts.router,
    dashboard.router,
    provider_file.router,
    recommendations.router,
    kpi_due.router,
    notifications.router,
]
