"""Who may call each route of placements (see shared/policy.py)."""

from __future__ import annotations

from fastapi import Depends

from shared.contracts.common import Role
from shared.policy import Policy, guard, rule

C, M, P, S = Role.COMMISSIONER, Role.MONITORING_OFFICER, Role.PROVIDER, Role.COUNCIL_SYSTEM
DECIDES = "placement decisions are the commissioner's (admin operates, never decides)"
MINIMISED = "a monitoring officer sees no date of birth and no secondary needs"
OWN = "a provider only its own placements (404 for another's)"

POLICY: Policy = {
    ("GET", "/needs"): rule(C, M, why="children's needs, for the council", narrowed=MINIMISED),
    ("GET", "/needs/{need_id}"): rule(
        C, M, why="children's needs, for the council", narrowed=MINIMISED
    ),
    ("POST", "/needs/{need_id}/block-offer/decision"): rule(C, why=DECIDES),
    ("GET", "/placements"): rule(C, M, P, why="placements in force", narrowed=OWN),
    ("GET", "/placements/{placement_id}"): rule(C, M, P, why="a placement", narrowed=OWN),
    ("POST", "/placements/{placement_id}/reviews/{review_id}/outcome"): rule(C, why=DECIDES),
    ("POST", "/placements/{placement_id}/uplifts"): rule(
        C, P, why="a provider asks for a fee uplift", narrowed=OWN
    ),
    ("POST", "/uplifts/{uplift_id}/decision"): rule(C, why=DECIDES),
    ("POST", "/placements/{placement_id}/variations"): rule(C, why=DECIDES),
    ("POST", "/placements/{placement_id}/end"): rule(C, why=DECIDES),
    ("POST", "/placements/{placement_id}/renewal"): rule(C, why=DECIDES),
    ("POST", "/placements/import"): rule(C, why="loading the council's existing placements"),
    ("POST", "/block-contracts"): rule(C, why=DECIDES),
    ("GET", "/block-contracts/{block_contract_id}"): rule(C, M, why="the council's contracts"),
    ("POST", "/block-contracts/{block_contract_id}/renewal"): rule(C, why=DECIDES),
    ("GET", "/spend"): rule(C, M, why="the council's spend"),
    ("POST", "/ehc-events"): rule(S, why="the council's case system sends EHC events"),
}

ALLOWED = Depends(guard(POLICY))
