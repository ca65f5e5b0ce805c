"""Who may call each route of procurement (see shared/policy.py)."""

from __future__ import annotations

from fastapi import Depends

from shared.contracts.common import Role
from shared.policy import Policy, guard, rule

C, M, P, S = Role.COMMISSIONER, Role.MONITORING_OFFICER, Role.PROVIDER, Role.COUNCIL_SYSTEM
COUNCIL = "commissioning is the commissioner's (admin operates the platform, never awards)"

POLICY: Policy = {
    ("POST", "/schemes"): rule(C, why=COUNCIL),
    ("GET", "/schemes/{scheme_id}"): rule(C, M, S, P, why="a scheme's terms are published"),
    ("GET", "/schemes"): rule(C, M, S, P, why="a scheme's terms are published"),
    ("POST", "/schemes/{scheme_id}/status"): rule(C, why=COUNCIL),
    ("POST", "/schemes/{scheme_id}/reopenings"): rule(
        C, why="the council reopens its open framework (Procurement Act 2023 s.49)"
    ),
    ("POST", "/direct-awards"): rule(
        C, why="a direct award is the council's decision on a Schedule 5 ground (s.41)"
    ),
    ("GET", "/direct-awards/{direct_award_id}"): rule(
        C, M, why="the council's record of a direct award and its grounds"
    ),
    ("PATCH", "/schemes/{scheme_id}"): rule(
        C, why=COUNCIL, narrowed="once open, only what the law allows (domain.AMENDMENT_RULES)"
    ),
    ("POST", "/schemes/{scheme_id}/applications"): rule(
        P, why="a provider applies to join", narrowed="as the provider its token names"
    ),
    ("PUT", "/schemes/{scheme_id}/application-draft"): rule(
        P,
        why="a provider keeps an unfinished application (not evaluated, no clock)",
        narrowed="only its own draft: the provider its token names",
    ),
    ("GET", "/schemes/{scheme_id}/application-draft"): rule(
        P,
        why="a provider comes back to its unfinished application",
        narrowed="only its own draft: the provider its token names (another's is never read)",
    ),
    ("GET", "/portal/application-drafts"): rule(
        P, why="a provider's own unfinished applications", narrowed="the provider its token names"
    ),
    ("POST", "/applications/{application_id}/clarification-requests"): rule(
        C, why="the council asks an applicant to clarify or supplement (PCR 2015 reg 56(4))"
    ),
    ("POST", "/applications/{application_id}/clarification-requests/{request_id}/answer"): rule(
        P,
        why="the applicant replies before the reply-by date",
        narrowed="only a request on its own application (404 otherwise)",
    ),
    ("POST", "/applications/{application_id}/decision"): rule(C, why=COUNCIL),
    ("POST", "/applications/{application_id}/extension"): rule(C, why=COUNCIL),
    ("GET", "/schemes/{scheme_id}/members"): rule(C, M, why="the council's view of its members"),
    ("POST", "/schemes/{scheme_id}/members/{provider_id}/status"): rule(C, why=COUNCIL),
    ("POST", "/schemes/{scheme_id}/members/{provider_id}/self-declarations"): rule(C, why=COUNCIL),
    ("POST", "/self-declarations/{request_id}/answer"): rule(
        P, why="a member answers", narrowed="only a request sent to its own provider (404)"
    ),
    ("GET", "/self-declarations/{request_id}"): rule(
        C, M, P, why="reading a declaration", narrowed="a provider only its own (404)"
    ),
    ("POST", "/competitions"): rule(C, why=COUNCIL),
    ("GET", "/competitions/{competition_id}"): rule(
        C,
        M,
        P,
        why="reading a call-off",
        narrowed="a provider only if invited, and only its own bid and feedback, answered "
        "clarifications (never who asked) and its own questions; an evaluator only its own "
        "scores until the ranking moderates them",
    ),
    ("POST", "/competitions/{competition_id}/bids"): rule(
        P, why="an invited provider bids", narrowed="as the provider its token names"
    ),
    ("POST", "/competitions/{competition_id}/bids/withdrawal"): rule(
        P,
        why="a bidder withdraws its own bid before the deadline",
        narrowed="as the provider its token names; a call-off it was not invited to is 404",
    ),
    ("POST", "/competitions/{competition_id}/clarifications"): rule(
        P,
        why="an invited provider asks a clarification question",
        narrowed="as the provider its token names; a call-off it was not invited to is 404",
    ),
    ("POST", "/competitions/{competition_id}/clarifications/{clarification_id}/answer"): rule(
        C, why="the council answers, to every invited provider (equal treatment)"
    ),
    ("POST", "/competitions/{competition_id}/bids/{bid_id}/scores"): rule(
        C, why="evaluators score bids; who scored is recorded"
    ),
    ("POST", "/competitions/{competition_id}/evaluation"): rule(C, why=COUNCIL),
    ("POST", "/competitions/{competition_id}/award"): rule(
        C,
        why=COUNCIL,
        narrowed="separation of duties: not by anyone who scored a bid of the competition "
        "(409 approver_scored_bid)",
    ),
    ("GET", "/applications"): rule(C, M, why="the council's worklist of requests to participate"),
    ("GET", "/applications/{application_id}"): rule(
        C, M, why="a request to participate with the provider's answers, for the council"
    ),
    ("GET", "/competitions"): rule(C, M, why="the council's worklist of call-offs"),
    ("GET", "/notices"): rule(C, M, why="the council's notice register"),
    ("GET", "/notices/tracking"): rule(C, M, why="the council's notice register"),
    ("POST", "/notices/{notice_id}/publication"): rule(C, why=COUNCIL),
    # The provider portal's reads (portal_api.py): no provider id in the path to swap.
    ("GET", "/portal/invitations"): rule(
        P, why="a provider's own call-off invitations", narrowed="the provider its token names"
    ),
    ("GET", "/portal/applications"): rule(
        P, why="a provider's own requests to participate", narrowed="the provider its token names"
    ),
    ("GET", "/portal/self-declarations"): rule(
        P, why="a provider's own declaration requests", narrowed="the provider its token names"
    ),
    ("GET", "/portal/schemes"): rule(P, why="the schemes open to join are published"),
    # The OCDS output is made to be published, but by the council's publication step
    # (Find a Tender, its open data), which decides when: not served to the public here.
    ("GET", "/schemes/{scheme_id}/ocds/releases"): rule(
        C, M, S, why="the council's publication step takes the scheme's OCDS release package"
    ),
    ("GET", "/ocds/records/{ocid}"): rule(
        C, M, S, why="the council's publication step takes a contracting process's OCDS record"
    ),
}

ALLOWED = Depends(guard(POLICY))
