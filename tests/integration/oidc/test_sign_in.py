"""Signing in with the council's OpenID Connect provider: a real one (oidc-provider)
issues client-credentials access tokens (RFC 9068 JWTs) and provider_registry's API,
built as `dps service` builds it, decides on them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shared.client_credentials import SignInError, client_credentials_token, operator_token
from shared.contracts.common import Role
from shared.identity_settings import IdentitySettings
from shared.runtime import ServiceRuntime
from tests.integration.oidc.conftest import (
    RESOURCES,
    SECRET,
    IdentityProvider,
    signed_in,
    signing_key,
)

pytestmark = pytest.mark.integration

REGISTRY, PLACEMENTS = RESOURCES


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def answer(
    runtime: ServiceRuntime,
    idp: IdentityProvider,
    token: str,
    path: str = "/providers",
    **identity: Any,
) -> tuple[int, str]:
    async with signed_in(runtime, idp, **identity) as client:
        response = await client.get(path, headers=bearer(token))
    body = response.json()
    return response.status_code, str(body.get("detail", "")) if isinstance(body, dict) else ""


async def test_a_machine_client_acts_with_the_role_the_provider_gives_it(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    case_system = idp.token("case-system")
    assert (await answer(registry, idp, case_system))[0] == 200
    # council_system may list providers but not act on recommendations (commissioners').
    status, detail = await answer(registry, idp, case_system, "/recommendations")
    assert status == 403 and detail.startswith("role 'council_system' may not GET /recommendations")
    # No roles claim: the role comes from DPS_OIDC_CLIENT_ROLES by client id.
    assert (await answer(registry, idp, idp.token("ops-tool"), "/admin/status"))[0] == 200
    status, detail = await answer(
        registry, idp, idp.token("ops-tool"), "/admin/status", oidc_client_roles={}
    )
    assert status == 401 and "no send-dps role" in detail


async def test_group_ids_map_to_roles_and_a_token_carries_exactly_one(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    mapped = {"oidc_role_map": {"5f0c9e2a-commissioning-team": Role.COMMISSIONER}}
    token = idp.token("finance-tool")
    assert (await answer(registry, idp, token, "/recommendations", **mapped))[0] == 200
    status, detail = await answer(registry, idp, token)
    assert status == 401 and detail.startswith("token carries no send-dps role")
    status, detail = await answer(registry, idp, idp.token("two-hats"))
    assert (status, detail) == (
        401,
        "token carries several send-dps roles (admin, commissioner); give it one",
    )


async def test_a_person_signs_in_and_acts_with_the_role_of_their_group(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    tokens = idp.person_tokens("asha.officer")
    mapped = {"oidc_role_map": {"0d6f3b1c-monitoring-officers": Role.MONITORING_OFFICER}}
    assert (await answer(registry, idp, tokens["access_token"], **mapped))[0] == 200
    status, detail = await answer(
        registry, idp, tokens["access_token"], "/recommendations", **mapped
    )
    assert status == 403
    assert detail.startswith("role 'monitoring_officer' may not GET /recommendations")
    # The ID token is for the web client, not for the API: refused by its audience.
    status, detail = await answer(registry, idp, tokens["id_token"], **mapped)
    assert (status, detail.split(";")[0]) == (401, "token is for audience 'council-web'")


async def test_a_provider_token_must_carry_its_provider_binding(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    assert (await answer(registry, idp, idp.token("school-portal")))[0] == 200
    status, detail = await answer(registry, idp, idp.token("unbound-school"))
    assert (status, detail) == (
        401,
        "a provider token must name its provider in the 'provider_id' claim",
    )


async def test_a_token_for_another_service_is_refused(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    status, detail = await answer(registry, idp, idp.token("case-system", PLACEMENTS))
    assert status == 401
    assert detail == f"token is for audience {PLACEMENTS!r}; this service accepts {REGISTRY!r}"
    # One API audience for all four services is a configuration too.
    assert (
        await answer(registry, idp, idp.token("case-system", PLACEMENTS), oidc_audience=PLACEMENTS)
    )[0] == 200


async def test_an_expired_token_is_refused_after_the_leeway(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    token = idp.token("short-lived")  # lives 1 s
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, exp + 1.05 - time.time()))
    assert await answer(registry, idp, token, oidc_leeway_s=0) == (401, "token has expired")
    assert (await answer(registry, idp, token, oidc_leeway_s=30))[0] == 200  # clock skew


async def test_a_token_living_longer_than_allowed_is_refused(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    status, detail = await answer(registry, idp, idp.token("long-lived"))
    assert status == 401 and detail.startswith("token lives 7200 s; tokens may live at most 5400 s")


def _forge(claims: dict[str, Any], header: dict[str, Any], key: Any, alg: str) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=header)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _by_hand(header: dict[str, Any], claims: dict[str, Any], hmac_key: bytes | None) -> str:
    """What PyJWT will not make: alg none, or HS256 keyed with the provider's public key
    (the algorithm-confusion attack, RFC 8725 §2.1)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if hmac_key is None:
        return signing_input + "."
    mac = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


async def test_forged_tokens_are_refused(registry: ServiceRuntime, idp: IdentityProvider) -> None:
    real = idp.token("case-system")
    claims = {**jwt.decode(real, options={"verify_signature": False}), "roles": ["admin"]}
    kid = jwt.get_unverified_header(real)["kid"]
    attacker, _ = signing_key(kid)
    public_pem = (
        jwt.PyJWK(idp.keys[0])
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    forgeries = {
        "another key under the provider's kid": (
            _forge(claims, {"kid": kid}, attacker, "RS256"),
            "token's signature does not verify with the issuer's key",
        ),
        "alg none": (_by_hand({"alg": "none"}, claims, None), "token signed with 'none'"),
        "HS256 keyed with the public key": (
            _by_hand({"alg": "HS256", "kid": kid}, claims, public_pem),
            "token signed with 'HS256'",
        ),
        "a made-up key id": (
            _forge(claims, {"kid": "key-of-mine"}, attacker, "RS256"),
            f"token signed with key 'key-of-mine', which the issuer {idp.issuer} does not publish",
        ),
    }
    for name, (token, why) in forgeries.items():
        status, detail = await answer(registry, idp, token)
        assert (status, detail.split(";")[0]) == (401, why.split(";")[0]), name


async def test_unknown_key_ids_refetch_the_keys_at_most_once_per_interval(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    attacker, _ = signing_key("x")
    claims = jwt.decode(idp.token("case-system"), options={"verify_signature": False})
    async with signed_in(registry, idp, oidc_jwks_min_refetch_s=60) as client:
        verifier = client._transport.app.state.authenticator.oidc  # type: ignore[attr-defined]
        for n in range(5):
            forged = _forge(claims, {"kid": f"made-up-{n}"}, attacker, "RS256")
            assert (await client.get("/providers", headers=bearer(forged))).status_code == 401
    assert verifier.jwks.fetches == 1


async def test_a_rotated_signing_key_is_picked_up(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    async with signed_in(registry, idp) as client:
        verifier = client._transport.app.state.authenticator.oidc  # type: ignore[attr-defined]
        assert (
            await client.get("/providers", headers=bearer(idp.token("case-system")))
        ).status_code == 200
        assert verifier.jwks.fetches == 1
        # The provider publishes a new key and signs with it; the old one stays published.
        idp.restart(keys=[signing_key("key-2")[1], *idp.keys])
        rotated = idp.token("case-system")
        assert jwt.get_unverified_header(rotated)["kid"] == "key-2"
        assert (await client.get("/providers", headers=bearer(rotated))).status_code == 200
        assert verifier.jwks.fetches == 2  # the unknown kid fetched the keys again


async def test_a_revoked_client_gets_no_token_and_its_tokens_can_be_cut_off(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    issued = idp.token("retired")
    idp.restart(clients=[c["client_id"] for c in idp.clients if c["client_id"] != "retired"])
    settings = IdentitySettings(
        oidc_issuer=idp.issuer, oidc_client_id="retired", oidc_client_secret=SECRET
    )
    with pytest.raises(SignInError, match="refused client 'retired': invalid_client"):
        client_credentials_token(settings)
    # What it already holds works until it expires (DPS_OIDC_MAX_TOKEN_LIFETIME_S bounds
    # that), unless the services are told at once:
    assert (await answer(registry, idp, issued))[0] == 200
    status, detail = await answer(registry, idp, issued, oidc_revoked_clients=["retired"])
    assert (status, detail) == (401, "client 'retired' is revoked (DPS_OIDC_REVOKED_CLIENTS)")


async def test_an_unreachable_provider_gives_503_not_500(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    token, unseen = idp.token("case-system"), idp.token("case-system")
    assert unseen != token
    async with signed_in(registry, idp) as warm:
        assert (await warm.get("/providers", headers=bearer(token))).status_code == 200
        idp.stop()
        # Keys already fetched keep verifying while the provider is down (a token not
        # seen before, so not one the service has already verified).
        assert (await warm.get("/providers", headers=bearer(unseen))).status_code == 200
    status, detail = await answer(registry, idp, token)  # a fresh process: no keys yet
    assert status == 503
    assert (
        detail == f"cannot fetch the signing keys of {idp.issuer} (ConnectError); try again shortly"
    )


async def test_dps_commands_in_production_sign_in_by_client_credentials(
    registry: ServiceRuntime, idp: IdentityProvider
) -> None:
    settings = IdentitySettings(
        env="production",
        oidc_issuer=idp.issuer,  # the token endpoint is discovered
        oidc_client_id="ops-tool",
        oidc_client_secret=SECRET,
        oidc_resource=REGISTRY,
    )
    token = operator_token(settings, Role.ADMIN, subject="dps-operator")
    assert jwt.decode(token, options={"verify_signature": False})["client_id"] == "ops-tool"
    assert (await answer(registry, idp, token, "/admin/status"))[0] == 200
    with pytest.raises(SignInError, match="DPS_OIDC_CLIENT_ID"):
        operator_token(IdentitySettings(env="production"), Role.ADMIN, "dps-operator")
