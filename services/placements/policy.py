"""Who may call each route of placements (see shared/policy.py)."""

from __future__ import annotations

from fastapi import Depends

from shared.contracts.common import Role
from shared.policy import Policy, guard, rule

C, M, P, S = Role.COMMISSIONER, Role.MONITORING_OFFICER, Role.PROVIDER, Role.COUNCIL_SYSTEM
DECIDES = "placement decisions are the commissioner's (admin operates, never decides)"
MINIMISED = "a monitoring officer sees no date of birth and no secondary needs"
OWN = "a provider only its own placements (404 for another's)"
OWN_VIEW = (
    "a provider only its own placements (404 for another's), without the reference "
    "justifying a direct award (a tribunal order's is the child's case)"
)
OWN_OFFERS = "a provider only offers of its own blocks' places (404 for another's)"
DECIDES_INSTEAD = (
    "the commissioner decides an offer for the provider (an answer given another way, or "
    "no answer by the answer-by date: decline and go to a call-off)"
)

POLICY: Policy = {
    ("GET", "/needs"): rule(C, M, why="children's needs, for the council", narrowed=MINIMISED),
    ("GET", "/needs/{need_id}"): rule(
        C, M, why="children's needs, for the council", narrowed=MINIMISED
    ),
    ("POST", "/needs/{need_id}/block-offer/decision"): rule(C, why=DECIDES_INSTEAD),
    ("GET", "/block-offers"): rule(C, M, P, why="block places offered", narrowed=OWN_OFFERS),
    ("GET", "/block-offers/{offer_id}"): rule(
        C, M, P, why="a block place offered", narrowed=OWN_OFFERS
    ),
    ("POST", "/block-offers/{offer_id}/decision"): rule(
        P, why="the block's provider accepts or declines a place offer", narrowed=OWN_OFFERS
    ),
    ("GET", "/placements"): rule(C, M, P, why="placements in force", narrowed=OWN_VIEW),
    ("GET", "/placements/{placement_id}"): rule(C, M, P, why="a placement", narrowed=OWN_VIEW),
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
    ("GET", "/block-contracts"): rule(C, M, why="the council's contracts and their use"),
    ("GET", "/block-contracts/{block_contract_id}"): rule(C, M, why="the council's contracts"),
    ("POST", "/block-contracts/{block_contract_id}/renewal"): rule(C, why=DECIDES),
    ("GET", "/spend"): rule(C, M, why="the council's spend"),
    ("POST", "/ehc-events"): rule(S, why="the council's case system sends EHC events"),
    # Statutory returns (docs/law/returns.md).
    ("GET", "/returns/sen2"): rule(
        C,
        S,
        why="the council's SEN2 return: children's placements by pseudonymous reference, "
        "for the commissioner and the case system that joins them to its person records",
    ),
    ("GET", "/returns/transparency-contracts.csv"): rule(
        C, M, why="the council's published list of contracts over £5,000 (names no child)"
    ),
}

ALLOWED = Depends(guard(POLICY))
