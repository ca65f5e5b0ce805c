"""Who may call each route of monitoring (see shared/policy.py)."""

from __future__ import annotations

from fastapi import Depends

from shared.contracts.common import Role
from shared.policy import Policy, guard, rule

C, M, P, S = Role.COMMISSIONER, Role.MONITORING_OFFICER, Role.PROVIDER, Role.COUNCIL_SYSTEM
WATCH = "contract monitoring, by the council's officers"
MINE = "a provider's person chooses the e-mails they receive (issue 15)"

POLICY: Policy = {
    ("POST", "/visits"): rule(C, M, why=WATCH),
    ("POST", "/kpi-returns"): rule(
        C, M, P, why="providers return KPIs", narrowed="a provider only for its own placements"
    ),
    ("POST", "/kpi-returns/check"): rule(C, M, why=WATCH),
    ("POST", "/incidents"): rule(C, M, why=WATCH),
    ("GET", "/rules"): rule(C, M, why=WATCH),
    ("PATCH", "/rules/{rule_id}"): rule(C, why="alert thresholds are the commissioner's"),
    ("GET", "/alerts"): rule(C, M, why=WATCH),
    ("GET", "/alerts/{alert_id}"): rule(C, M, why=WATCH),
    ("POST", "/alerts/{alert_id}/assign"): rule(C, M, why=WATCH),
    ("POST", "/alerts/{alert_id}/acknowledge"): rule(C, M, why=WATCH),
    ("POST", "/alerts/{alert_id}/resolve"): rule(C, M, why=WATCH),
    ("GET", "/providers/{provider_id}/scorecard"): rule(C, M, why=WATCH),
    ("GET", "/providers/{provider_id}/file"): rule(C, M, why=WATCH),
    ("PUT", "/budgets/{financial_year}"): rule(
        C, why="budgets are set by the commissioner (admin operates, never sets budgets)"
    ),
    ("GET", "/budgets"): rule(C, M, why=WATCH),
    ("GET", "/dashboard"): rule(C, M, why=WATCH),
    ("GET", "/providers"): rule(C, M, why=WATCH),
    ("GET", "/notification-preferences/mine"): rule(
        P, why=MINE, narrowed="the caller's own subject and provider (from the token)"
    ),
    ("PUT", "/notification-preferences/mine"): rule(
        P, why=MINE, narrowed="the caller's own subject and provider (from the token)"
    ),
    ("GET", "/suspension-grounds"): rule(C, M, why=WATCH),
    ("POST", "/providers/{provider_id}/suspension-recommendations"): rule(
        M,
        why="a monitoring officer recommends; the commissioner decides at the register "
        "(one person does not both raise and decide a suspension)",
    ),
    ("GET", "/providers/{provider_id}/suspension-recommendations"): rule(C, M, why=WATCH),
    ("GET", "/providers/{provider_id}/kpi-returns/due"): rule(
        C,
        M,
        P,
        why="a provider sees which KPI returns it owes",
        own="provider_id",
        narrowed="placements by id only, no child's details",
    ),
}

ALLOWED = Depends(guard(POLICY))
