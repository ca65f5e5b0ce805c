"""Reading the role and the provider binding from an identity provider's claims (the
signature, audience and expiry are tested against a real provider in
tests/integration/oidc)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts.common import Role
from shared.identity_settings import IdentitySettings
from shared.oidc import OidcVerifier, TokenRejected


def verifier(**settings: Any) -> OidcVerifier:
    base = {"oidc_issuer": "https://idp.example", "oidc_audience": "api://send-dps/{service}"}
    return OidcVerifier(IdentitySettings(**{**base, **settings}), "placements")


def test_each_service_gets_its_own_audience_from_the_template() -> None:
    assert verifier().audience == "api://send-dps/placements"
    assert verifier(oidc_audience="api://send-dps").audience == "api://send-dps"


def test_roles_from_a_nested_claim_a_space_separated_string_or_a_map() -> None:
    keycloak = verifier(oidc_roles_claim="realm_access.roles")
    actor = keycloak.actor_from({"sub": "u1", "realm_access": {"roles": ["offline", "admin"]}})
    assert (actor.id, actor.role, actor.provider_id) == ("u1", "admin", None)
    assert verifier().actor_from({"sub": "u", "roles": "commissioner"}).role == "commissioner"
    entra = verifier(oidc_role_map={"SendDps.Officer": Role.MONITORING_OFFICER})
    assert entra.actor_from({"sub": "u", "roles": ["SendDps.Officer"]}).role == "monitoring_officer"


def test_the_provider_binding_comes_from_its_claim_and_only_for_providers() -> None:
    school = verifier(oidc_provider_claim="ext_provider")
    actor = school.actor_from({"sub": "s", "roles": ["provider"], "ext_provider": "p-7"})
    assert actor.provider_id == "p-7"
    officer = school.actor_from({"sub": "o", "roles": ["commissioner"], "ext_provider": "p-7"})
    assert officer.provider_id is None  # a binding means nothing for a council role
    for unbound in ({}, {"ext_provider": ""}, {"ext_provider": ["p-7"]}):
        with pytest.raises(TokenRejected, match="'ext_provider' claim"):
            school.actor_from({"sub": "s", "roles": ["provider"], **unbound})


def test_revoked_clients_are_refused_by_client_id_or_azp() -> None:
    revoked = verifier(oidc_revoked_clients=["old-case-system"])
    for claim in ("client_id", "azp"):
        with pytest.raises(TokenRejected, match="'old-case-system' is revoked"):
            revoked.actor_from({"sub": "x", "roles": ["council_system"], claim: "old-case-system"})


def test_a_supplier_needs_no_provider_binding_and_any_it_carries_means_nothing() -> None:
    """A supplier's person awaiting the council's verification is bound to no provider
    (issue 15); once bound, the identity provider issues provider tokens, which must
    still name their provider."""
    idp = verifier(oidc_provider_claim="ext_provider")
    newcomer = idp.actor_from({"sub": "person-1", "roles": ["supplier"]})
    assert (newcomer.id, newcomer.role, newcomer.provider_id) == ("person-1", "supplier", None)
    claiming = idp.actor_from({"sub": "person-1", "roles": ["supplier"], "ext_provider": "p-7"})
    assert claiming.provider_id is None  # only a provider token is bound
    mapped = verifier(oidc_role_map={"SendDps.Supplier": Role.SUPPLIER})
    assert mapped.actor_from({"sub": "s", "roles": ["SendDps.Supplier"]}).role == "supplier"
    with pytest.raises(TokenRejected, match="'ext_provider' claim"):
        idp.actor_from({"sub": "person-1", "roles": ["provider"]})
    with pytest.raises(TokenRejected, match="several send-dps roles"):
        idp.actor_from({"sub": "person-1", "roles": ["supplier", "provider"], "ext_provider": "p"})


def test_a_development_supplier_token_is_never_bound() -> None:
    from shared.auth import issue_token, read_token

    secret = "s" * 32
    actor = read_token(secret, issue_token(secret, Role.SUPPLIER, subject="someone"))
    assert (actor.role, actor.provider_id) == ("supplier", None)
    carried = read_token(secret, issue_token(secret, Role.SUPPLIER, provider_id="p-1"))
    assert carried.provider_id is None
