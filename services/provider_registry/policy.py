"""Who may call each route of the provider register (see shared/policy.py)."""

from __future__ import annotations

from fastapi import Depends

from shared.contracts.common import Role
from shared.policy import Policy, guard, rule

C, M, P, S = Role.COMMISSIONER, Role.MONITORING_OFFICER, Role.PROVIDER, Role.COUNCIL_SYSTEM
U = Role.SUPPLIER  # a supplier's person not yet bound to a provider: registration only
OTHERS_PUBLIC = (
    "a provider sees its own record in full; another provider's only its public fields "
    "(no capacity, places in use, contacts or documents)"
)

POLICY: Policy = {
    ("POST", "/providers"): rule(C, why="putting a provider on the register is the council's"),
    ("GET", "/providers"): rule(C, M, S, P, why="finding a school", narrowed=OTHERS_PUBLIC),
    ("GET", "/providers/{provider_id}"): rule(
        C, M, S, P, why="reading the register", narrowed=OTHERS_PUBLIC
    ),
    ("PATCH", "/providers/{provider_id}"): rule(
        C,
        P,
        why="keeping the record current",
        own="provider_id",
        narrowed="a provider changes only its contacts, places and documents; "
        "a document it uploads is unverified until an officer verifies it",
    ),
    ("POST", "/providers/{provider_id}/documents/{kind}/verification"): rule(
        C, M, why="the council verifies compliance documents and sets their expiry"
    ),
    ("POST", "/providers/{provider_id}/documents/{kind}/file"): rule(
        C,
        P,
        why="the document's file, for the officer who verifies it",
        own="provider_id",
        narrowed="a file of an allowed type (told by its first bytes) and size only",
    ),
    ("GET", "/providers/{provider_id}/documents/{kind}/file"): rule(
        C,
        M,
        P,
        why="officers read the file to verify the document; a provider its own",
        narrowed="another provider's files do not exist for a provider (404); "
        "every download is audited",
    ),
    ("GET", "/providers/{provider_id}/document-files"): rule(
        C,
        M,
        P,
        why="which documents have a file to read",
        narrowed="another provider's files do not exist for a provider (404)",
    ),
    ("POST", "/providers/{provider_id}/inspections"): rule(
        C, why="the council records Ofsted inspections"
    ),
    ("GET", "/providers/{provider_id}/inspections"): rule(
        C, M, S, P, why="Ofsted outcomes are public"
    ),
    ("POST", "/providers/{provider_id}/status"): rule(
        C, why="suspending or removing a provider is the commissioner's decision"
    ),
    ("GET", "/providers/{provider_id}/status-changes"): rule(
        C,
        M,
        S,
        P,
        why="status reasons are the council's and the provider's own",
        own="provider_id",
    ),
    ("GET", "/recommendations"): rule(C, why="the commissioner decides suspensions"),
    ("POST", "/recommendations/{recommendation_id}/decision"): rule(
        C, why="the commissioner decides suspensions"
    ),
    # --- people (issue 15): the only routes a supplier (unbound person) may call -------
    ("POST", "/registrations"): rule(
        U,
        why="a supplier's person registers its organisation (claim by URN, or new)",
        narrowed="one registration awaiting the council per person; a person of a "
        "provider already is refused",
    ),
    ("GET", "/registrations/mine"): rule(
        U, P, why="a person follows its own registration", narrowed="the caller's own only"
    ),
    ("GET", "/registrations"): rule(C, why="the council verifies who may act for a provider"),
    ("GET", "/registrations/{registration_id}"): rule(
        C, why="the council verifies who may act for a provider"
    ),
    ("POST", "/registrations/{registration_id}/decision"): rule(
        C, why="the council verifies who may act for a provider (a URN claim too)"
    ),
    ("GET", "/people/me"): rule(
        U, P, why="which provider the caller's tokens are bound to", narrowed="the caller's own"
    ),
    ("GET", "/providers/{provider_id}/people"): rule(
        P,
        why="the organisation's administrator manages its people",
        own="provider_id",
        narrowed="only a person who is the provider's administrator (403 for its members)",
    ),
    ("POST", "/providers/{provider_id}/invitations"): rule(
        P,
        why="the organisation's administrator invites its people",
        own="provider_id",
        narrowed="only a person who is the provider's administrator (403 for its members)",
    ),
    ("POST", "/providers/{provider_id}/people/{subject}/removal"): rule(
        P,
        why="the administrator removes a person; a person leaves its organisation",
        own="provider_id",
        narrowed="the provider's administrator, or the person itself (leaving); never "
        "the last administrator (409)",
    ),
    ("POST", "/providers/{provider_id}/people/{subject}/role"): rule(
        P,
        why="the administrator hands the administrator role to another person",
        own="provider_id",
        narrowed="only a person who is the provider's administrator (403 for its members); "
        "never leaves the organisation without an administrator (409)",
    ),
    ("POST", "/invitations/{code}/acceptance"): rule(
        U, why="an invited person joins its provider", narrowed="not a person of a provider yet"
    ),
}

ALLOWED = Depends(guard(POLICY))
