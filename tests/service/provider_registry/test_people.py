"""A provider's people (issue 15): self-registration, the council's verification,
membership (GET /people/me) and invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import col, select

from services.provider_registry.models import InvitationRow, MembershipRow, ProviderRow
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.harness import client_for
from tests.service.provider_registry.conftest import fields_of, outbox_types, register


def supplier(subject: str) -> str:
    return issue_token(TEST_SECRET, Role.SUPPLIER, subject=subject)


def bound(subject: str, provider_id: str) -> str:
    return issue_token(TEST_SECRET, Role.PROVIDER, subject=subject, provider_id=provider_id)


def claim(urn: int, name: str = "Ann Head", email: str = "ann@oak.example") -> dict[str, Any]:
    return {"kind": "claim", "person_name": name, "person_email": email, "urn": urn}


def new_provider(urn: int | None = None, **overrides: Any) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "urn": urn,
        "name": "Willow School",
        "proprietor": "Willow Trust",
        "provider_type": "independent_special_school",
        "address": "2 Willow Road, Ashford",
        "postcode": "tn23 1aa",
        "age_low": 5,
        "age_high": 11,
        "attendance": ["day"],
        "capacity": 30,
        "need_types": ["SEMH"],
    }
    provider.update(overrides)
    return {
        "kind": "new",
        "person_name": "Bea Bursar",
        "person_email": "bea@willow.example",
        "provider": provider,
    }


async def submit(registry: ServiceRuntime, subject: str, body: dict[str, Any]) -> httpx.Response:
    async with client_for(registry, supplier(subject)) as client:
        return await client.post("/registrations", json=body)


async def decide(
    commissioner: httpx.AsyncClient, registration_id: str, decision: str, **extra: Any
) -> httpx.Response:
    return await commissioner.post(
        f"/registrations/{registration_id}/decision", json={"decision": decision, **extra}
    )


async def me(registry: ServiceRuntime, token: str) -> dict[str, Any]:
    async with client_for(registry, token) as client:
        response = await client.get("/people/me")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_verified_claim_binds_the_person_as_administrator(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    provider_id = await register(commissioner, urn=520001)
    submitted = await submit(registry, "ann", claim(520001))
    assert submitted.status_code == 201, submitted.text
    registration = submitted.json()
    assert registration["status"] == "pending" and registration["provider_id"] == provider_id
    assert (await me(registry, supplier("ann")))["memberships"] == []  # not before the council

    pending = (await commissioner.get("/registrations", params={"status": "pending"})).json()
    assert [r["registration_id"] for r in pending["items"]] == [registration["registration_id"]]
    verified = await decide(commissioner, registration["registration_id"], "verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"

    memberships = (await me(registry, supplier("ann")))["memberships"]
    assert [(m["provider_id"], m["role"]) for m in memberships] == [(provider_id, "administrator")]
    async with client_for(registry, supplier("ann")) as client:
        mine = (await client.get("/registrations/mine")).json()
    assert [r["status"] for r in mine] == ["verified"]


async def test_a_rejected_claim_binds_nobody_and_says_why(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    await register(commissioner, urn=520002)
    registration = (await submit(registry, "mallory", claim(520002))).json()
    no_reason = await decide(commissioner, registration["registration_id"], "reject")
    assert no_reason.status_code == 422 and fields_of(no_reason) == {"reason"}
    rejected = await decide(
        commissioner, registration["registration_id"], "reject", reason="not on the staff list"
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["reason"] == "not on the staff list"
    assert (await me(registry, supplier("mallory")))["memberships"] == []
    again = await decide(commissioner, registration["registration_id"], "verify")
    assert again.status_code == 409  # decided once
    # Rejected: the person may try again.
    assert (await submit(registry, "mallory", claim(520002))).status_code == 201


async def test_a_verified_new_provider_goes_on_the_register_and_is_announced(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    submitted = await submit(registry, "bea", new_provider(urn=None))
    assert submitted.status_code == 201, submitted.text
    registration = submitted.json()
    assert registration["urn"] is None and registration["provider_id"] is None
    async with registry.db.session() as session:  # nothing on the register before
        assert (await session.exec(select(ProviderRow))).all() == []
    assert "provider.registered" not in await outbox_types(registry)

    no_urn = await decide(commissioner, registration["registration_id"], "verify")
    assert no_urn.status_code == 422 and fields_of(no_urn) == {"urn"}
    verified = await decide(commissioner, registration["registration_id"], "verify", urn=520003)
    assert verified.status_code == 200, verified.text
    provider_id = verified.json()["provider_id"]
    provider = (await commissioner.get(f"/providers/{provider_id}")).json()
    assert provider["urn"] == 520003 and provider["status"] == "registered"
    assert provider["name"] == "Willow School" and provider["location"]["postcode"] == "TN23 1AA"
    assert "provider.registered" in await outbox_types(registry)
    memberships = (await me(registry, supplier("bea")))["memberships"]
    assert [(m["provider_id"], m["role"]) for m in memberships] == [(provider_id, "administrator")]


async def test_a_rejected_new_provider_never_reaches_the_register(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    registration = (await submit(registry, "bea", new_provider(urn=520004))).json()
    rejected = await decide(
        commissioner, registration["registration_id"], "reject", reason="not a school"
    )
    assert rejected.status_code == 200
    assert (await commissioner.get("/providers")).json()["total"] == 0
    assert "provider.registered" not in await outbox_types(registry)


async def test_new_provider_with_a_urn_on_the_register_is_refused(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    await register(commissioner, urn=520005)
    refused = await submit(registry, "bea", new_provider(urn=520005))
    assert refused.status_code == 409 and fields_of(refused) == {"urn"}
    # Registered by the council while the registration waited: verifying is refused.
    registration = (await submit(registry, "bea", new_provider(urn=520006))).json()
    await register(commissioner, urn=520006)
    clash = await decide(commissioner, registration["registration_id"], "verify")
    assert clash.status_code == 409 and fields_of(clash) == {"urn"}


async def test_duplicate_urn_claims_are_shown_competing_and_only_one_wins(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    await register(commissioner, urn=520007)
    first = (await submit(registry, "ann", claim(520007))).json()
    second = (await submit(registry, "eve", claim(520007, "Eve", "eve@elsewhere.example"))).json()
    assert second["competing"] == 1
    listed = (await commissioner.get("/registrations")).json()["items"]
    assert {r["competing"] for r in listed} == {1}
    # The same person cannot send a second registration while one waits.
    twice = await submit(registry, "ann", claim(520007))
    assert twice.status_code == 409 and fields_of(twice) == {"kind"}

    assert (await decide(commissioner, first["registration_id"], "verify")).status_code == 200
    loser = await decide(commissioner, second["registration_id"], "verify")
    assert loser.status_code == 409 and fields_of(loser) == {"registration"}
    rejected = await decide(commissioner, second["registration_id"], "reject", reason="not them")
    assert rejected.status_code == 200
    # A claim on a provider that has an administrator is refused outright now.
    late = await submit(registry, "zed", claim(520007, "Zed", "zed@x.example"))
    assert late.status_code == 409 and fields_of(late) == {"urn"}


async def test_bad_registrations_name_field_and_rule(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    unknown = await submit(registry, "ann", claim(599999))
    assert unknown.status_code == 422 and fields_of(unknown) == {"urn"}
    blank = await submit(registry, "ann", claim(520008, name=" ", email="not-an-email"))
    assert blank.status_code == 422
    assert fields_of(blank) >= {"person_name", "person_email"}
    no_urn = await submit(registry, "ann", {**claim(1), "urn": None})
    assert no_urn.status_code == 422 and fields_of(no_urn) == {"urn"}
    no_provider = await submit(registry, "ann", {**new_provider(), "provider": None})
    assert no_provider.status_code == 422 and fields_of(no_provider) == {"provider"}
    bad = await submit(registry, "ann", new_provider(postcode="nowhere", need_types=[]))
    assert bad.status_code == 422 and fields_of(bad) >= {"postcode", "need_types"}
    bad_urn = await submit(registry, "ann", new_provider(urn=12))
    assert bad_urn.status_code == 422 and fields_of(bad_urn) == {"urn"}
    missing = await decide(commissioner, "no-such", "verify")
    assert missing.status_code == 404
    nonsense = await commissioner.post("/registrations/x/decision", json={"decision": "maybe"})
    assert nonsense.status_code == 422


async def _administrator(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient, urn: int, subject: str
) -> str:
    provider_id = await register(commissioner, urn=urn)
    registration = (await submit(registry, subject, claim(urn))).json()
    assert (await decide(commissioner, registration["registration_id"], "verify")).is_success
    return provider_id


async def test_the_administrator_invites_and_the_invited_person_joins(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    provider_id = await _administrator(registry, commissioner, 520010, "ann")
    async with client_for(registry, bound("ann", provider_id)) as admin:
        sent = await admin.post(
            f"/providers/{provider_id}/invitations",
            json={"name": "Carl Clerk", "email": "carl@oak.example"},
        )
        assert sent.status_code == 201, sent.text
        code = sent.json()["code"]
        listed = (await admin.get(f"/providers/{provider_id}/people")).json()
    assert [p["role"] for p in listed["people"]] == ["administrator"]
    assert [i["email"] for i in listed["invitations"]] == ["carl@oak.example"]
    assert "code" not in listed["invitations"][0]
    async with registry.db.session() as session:  # only the hash is kept
        stored = (await session.exec(select(InvitationRow))).one()
    assert code not in stored.code_sha256

    async with client_for(registry, supplier("carl")) as carl:
        accepted = await carl.post(f"/invitations/{code}/acceptance", json={})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == "member"
        reused = await carl.post(f"/invitations/{code}/acceptance", json={})
    assert reused.status_code == 409
    memberships = (await me(registry, supplier("carl")))["memberships"]
    assert [(m["provider_id"], m["role"]) for m in memberships] == [(provider_id, "member")]

    # A member is not the administrator: it may not invite or list people.
    async with client_for(registry, bound("carl", provider_id)) as member:
        refused = await member.post(
            f"/providers/{provider_id}/invitations", json={"name": "X", "email": "x@y.example"}
        )
        assert refused.status_code == 403
        assert (await member.get(f"/providers/{provider_id}/people")).status_code == 403


async def test_a_person_of_another_provider_cannot_invite_or_list(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    oak = await _administrator(registry, commissioner, 520011, "ann")
    elm = await _administrator(registry, commissioner, 520012, "eve")
    async with client_for(registry, bound("eve", elm)) as eve:
        invited = await eve.post(
            f"/providers/{oak}/invitations", json={"name": "Mole", "email": "m@elm.example"}
        )
        listed = await eve.get(f"/providers/{oak}/people")
    assert invited.status_code == 403 and listed.status_code == 403
    # Even with a token claiming Oak, Eve is no person of Oak's.
    async with client_for(registry, bound("eve", oak)) as forged:
        assert (
            await forged.post(
                f"/providers/{oak}/invitations", json={"name": "M", "email": "m@e.example"}
            )
        ).status_code == 403


async def test_invitations_expire_and_bad_ones_are_refused(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    provider_id = await _administrator(registry, commissioner, 520013, "ann")
    async with client_for(registry, bound("ann", provider_id)) as admin:
        bad = await admin.post(
            f"/providers/{provider_id}/invitations", json={"name": "", "email": "nope"}
        )
        assert bad.status_code == 422 and fields_of(bad) == {"name", "email"}
        code = (
            await admin.post(
                f"/providers/{provider_id}/invitations",
                json={"name": "Dee", "email": "dee@oak.example"},
            )
        ).json()["code"]
    async with registry.db.transaction() as session:
        stored = (await session.exec(select(InvitationRow))).one()
        stored.expires_at = stored.invited_at - timedelta(seconds=1)
        session.add(stored)
    async with client_for(registry, supplier("dee")) as dee:
        expired = await dee.post(f"/invitations/{code}/acceptance", json={})
        unknown = await dee.post("/invitations/made-up/acceptance", json={})
    assert expired.status_code == 409 and fields_of(expired) == {"code"}
    assert unknown.status_code == 404
    # The administrator, already a person of a provider, cannot accept one for itself.
    async with registry.db.session() as session:
        assert len((await session.exec(select(MembershipRow))).all()) == 1


async def test_a_bound_person_cannot_register_again(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    await _administrator(registry, commissioner, 520014, "ann")
    await register(commissioner, urn=520015)
    again = await submit(registry, "ann", claim(520015))
    assert again.status_code == 409 and fields_of(again) == {"person"}


# --- removing people, leaving, handing over the administrator role ---------------------


async def _join(registry: ServiceRuntime, provider_id: str, admin: str, who: str) -> None:
    async with client_for(registry, bound(admin, provider_id)) as client:
        sent = await client.post(
            f"/providers/{provider_id}/invitations",
            json={"name": who.title(), "email": f"{who}@oak.example"},
        )
    assert sent.status_code == 201, sent.text
    async with client_for(registry, supplier(who)) as client:
        joined = await client.post(f"/invitations/{sent.json()['code']}/acceptance", json={})
    assert joined.status_code == 200, joined.text


async def _post(
    registry: ServiceRuntime, token: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    async with client_for(registry, token) as client:
        return await client.post(path, json=body or {})


async def _audited(registry: ServiceRuntime) -> list[str]:
    async with registry.db.session() as session:
        rows = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        return [row.action for row in rows.all() if row.action.startswith("person.")]


async def test_the_administrator_removes_a_person_who_then_is_a_plain_supplier(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    oak = await _administrator(registry, commissioner, 520020, "ann")
    await _join(registry, oak, "ann", "carl")
    removed = await _post(registry, bound("ann", oak), f"/providers/{oak}/people/carl/removal")
    assert removed.status_code == 200, removed.text
    assert removed.json()["status"] == "removed"
    assert (await me(registry, supplier("carl")))["memberships"] == []
    again = await _post(registry, bound("ann", oak), f"/providers/{oak}/people/carl/removal")
    assert again.status_code == 404  # removed already
    async with client_for(registry, bound("ann", oak)) as admin:
        people = (await admin.get(f"/providers/{oak}/people")).json()["people"]
    assert {(p["subject"], p["status"]) for p in people} == {
        ("ann", "active"),
        ("carl", "removed"),
    }
    # Removed, Carl may register or be invited back (his one row made active again).
    await _join(registry, oak, "ann", "carl")
    assert [m["role"] for m in (await me(registry, supplier("carl")))["memberships"]] == ["member"]
    assert await _audited(registry) == ["person.removed"]


async def test_a_member_may_leave_but_not_remove_or_promote_others(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    oak = await _administrator(registry, commissioner, 520021, "ann")
    await _join(registry, oak, "ann", "carl")
    await _join(registry, oak, "ann", "dee")
    carl = bound("carl", oak)
    assert (await _post(registry, carl, f"/providers/{oak}/people/dee/removal")).status_code == 403
    assert (await _post(registry, carl, f"/providers/{oak}/people/ann/removal")).status_code == 403
    promote = await _post(
        registry, carl, f"/providers/{oak}/people/carl/role", {"role": "administrator"}
    )
    assert promote.status_code == 403
    left = await _post(registry, carl, f"/providers/{oak}/people/carl/removal")
    assert left.status_code == 200, left.text
    assert (await me(registry, supplier("carl")))["memberships"] == []
    assert await _audited(registry) == ["person.left"]


async def test_the_last_administrator_cannot_go_until_it_hands_over(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    oak = await _administrator(registry, commissioner, 520022, "ann")
    await _join(registry, oak, "ann", "carl")
    ann = bound("ann", oak)
    for path, body in (
        (f"/providers/{oak}/people/ann/removal", None),
        (f"/providers/{oak}/people/ann/role", {"role": "member"}),
    ):
        refused = await _post(registry, ann, path, body)
        assert refused.status_code == 409, refused.text
        assert "at least one administrator" in refused.text
    bad = await _post(registry, ann, f"/providers/{oak}/people/carl/role", {"role": "boss"})
    assert bad.status_code == 422 and fields_of(bad) == {"role"}
    # Hand-over: Carl becomes administrator, then Ann steps down (or leaves).
    made = await _post(
        registry, ann, f"/providers/{oak}/people/carl/role", {"role": "administrator"}
    )
    assert made.status_code == 200 and made.json()["role"] == "administrator"
    stepped = await _post(registry, ann, f"/providers/{oak}/people/ann/role", {"role": "member"})
    assert stepped.status_code == 200 and stepped.json()["role"] == "member"
    # Ann, a member now, manages no one; Carl is the last administrator in turn.
    assert (await _post(registry, ann, f"/providers/{oak}/people/carl/removal")).status_code == 403
    carl = bound("carl", oak)
    last = await _post(registry, carl, f"/providers/{oak}/people/carl/removal")
    assert last.status_code == 409
    assert (await _post(registry, carl, f"/providers/{oak}/people/ann/removal")).is_success
    assert await _audited(registry) == ["person.role_changed"] * 2 + ["person.removed"]


async def test_an_administrator_leaves_while_another_administrator_stays(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    oak = await _administrator(registry, commissioner, 520023, "ann")
    await _join(registry, oak, "ann", "carl")
    ann = bound("ann", oak)
    await _post(registry, ann, f"/providers/{oak}/people/carl/role", {"role": "administrator"})
    left = await _post(registry, ann, f"/providers/{oak}/people/ann/removal")
    assert left.status_code == 200, left.text
    assert (await me(registry, supplier("ann")))["memberships"] == []
    # Gone, Ann's old provider token manages nothing there any more.
    assert (await _post(registry, ann, f"/providers/{oak}/people/carl/removal")).status_code == 403


async def test_another_providers_administrator_cannot_remove_or_promote(
    registry: ServiceRuntime, commissioner: httpx.AsyncClient
) -> None:
    oak = await _administrator(registry, commissioner, 520024, "ann")
    elm = await _administrator(registry, commissioner, 520025, "eve")
    await _join(registry, oak, "ann", "carl")
    for token in (bound("eve", elm), bound("eve", oak)):  # its own token, and a forged one
        removal = await _post(registry, token, f"/providers/{oak}/people/carl/removal")
        role = await _post(
            registry, token, f"/providers/{oak}/people/carl/role", {"role": "administrator"}
        )
        assert (removal.status_code, role.status_code) == (403, 403)
    # Nor can Oak's administrator reach Elm's people through Oak's route.
    assert (
        await _post(registry, bound("ann", oak), f"/providers/{oak}/people/eve/removal")
    ).status_code == 404
    assert len((await me(registry, supplier("carl")))["memberships"]) == 1
