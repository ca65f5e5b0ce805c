"""Registering a provider's people in the console (issue 15), against the real provider
register in-process: a new supplier person claims its school by URN, the commissioner
verifies it, the person continues as its provider and invites a colleague, who joins;
a new provider; errors; and another provider's person kept out."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from services.console.app import build_app
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.fixtures import provider_body
from tests.harness import client_for
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import console_settings, csrf_of
from tests.service.console.test_portal import signed_in
from tests.service.provider_registry.conftest import (  # noqa: F401  (the fixtures)
    broker_and_registry,
    registry,
)


def console_over(register: ServiceRuntime, tmp_path: Path) -> httpx.AsyncClient:
    settings = console_settings(tmp_path, provider_registry_url="http://provider_registry")
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "provider_registry": httpx.ASGITransport(app=register.build_app())
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def on_register(register: ServiceRuntime, urn: int) -> str:
    async with client_for(register, issue_token(TEST_SECRET, Role.COMMISSIONER)) as c:
        made = await c.post("/providers", json=provider_body(urn=urn, name=f"School {urn}"))
    assert made.status_code == 201, made.text
    return str(made.json()["provider_id"])


async def as_supplier(client: httpx.AsyncClient, name: str, email: str) -> httpx.Response:
    sign_in_page = await client.get("/sign-in")
    assert "Or a new supplier person" in sign_in_page.text
    return await client.post(
        "/sign-in/dev/supplier",
        data={
            "csrf_token": csrf_of(sign_in_page.text),
            "supplier_name": name,
            "supplier_email": email,
        },
    )


async def decide(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """As the commissioner: decide the only pending registration."""
    listed = await client.get("/registrations")
    assert listed.status_code == 200, listed.text
    path = re.search(r'href="(/registrations/[0-9a-f-]{36})"', listed.text)
    assert path, listed.text
    detail = await client.get(path[1])
    return await client.post(path[1], data={**form_of(detail.text, path[1]), **fields})


async def test_a_person_claims_its_school_is_verified_and_invites_a_colleague(
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    school = await on_register(registry, 800001)
    async with console_over(registry, tmp_path) as ann:
        signed = await as_supplier(ann, "Ann Head", "ann@school.example")
        assert signed.status_code == 303
        start = await ann.get("/", follow_redirects=True)
        assert "Register your organisation" in start.text
        bad = await ann.post(
            "/portal/register/claim",
            data={**form_of(start.text, "/portal/register/claim"), "urn": "12"},
        )
        assert bad.status_code == 400 and 'href="#urn"' in bad.text
        unknown = await ann.post(
            "/portal/register/claim",
            data={
                **form_of(bad.text, "/portal/register/claim"),
                "urn": "899999",
                "person_name": "Ann Head",
                "person_email": "ann@school.example",
            },
        )
        assert unknown.status_code == 400 and "not on the register" in unknown.text
        sent = await ann.post(
            "/portal/register/claim",
            data={
                **form_of(unknown.text, "/portal/register/claim"),
                "urn": "800001",
                "person_name": "Ann Head",
                "person_email": "ann@school.example",
            },
        )
        assert sent.headers["location"] == "/portal/register/status?sent=1"
        waiting = await ann.get("/portal/register/status")
        assert "awaiting the council&#39;s verification" in waiting.text
        assert "School 800001" in waiting.text
        # Still a supplier: the provider pages are not hers yet.
        assert (await ann.get("/portal/people")).status_code == 403

        async with console_over(registry, tmp_path) as officer:
            await signed_in(officer, "commissioner")
            refused = await decide(officer, decision="reject")
            assert refused.status_code == 400 and 'href="#reason"' in refused.text
            verified = await decide(officer, decision="verify")
            assert verified.status_code == 303, verified.text

        done = await ann.get("/portal/register/status")
        assert "administrator" in done.text and "Continue to School 800001" in done.text
        carried_on = await ann.post(
            "/portal/register/continue", data=form_of(done.text, "/portal/register/continue")
        )
        assert carried_on.headers["location"] == "/portal"
        people = await ann.get("/portal/people")
        assert people.status_code == 200 and "Ann Head" in people.text
        invited = await ann.post(
            "/portal/people/invitations",
            data={
                **form_of(people.text, "/portal/people/invitations"),
                "name": "Carl Clerk",
                "email": "carl@school.example",
                "role": "member",
            },
        )
        assert invited.status_code == 200, invited.text
        code = re.search(r'<code id="invitation-code">([^<]+)</code>', invited.text)
        assert code
        listed = await ann.get("/portal/people")
        assert "carl@school.example" in listed.text and code[1] not in listed.text

    async with console_over(registry, tmp_path) as carl:
        await as_supplier(carl, "Carl Clerk", "carl@school.example")
        join = await carl.get("/portal/join")
        wrong = await carl.post(
            "/portal/join", data={**form_of(join.text, "/portal/join"), "code": "made-up"}
        )
        assert wrong.status_code == 400 and "No invitation has this code" in wrong.text
        joined = await carl.post(
            "/portal/join", data={**form_of(wrong.text, "/portal/join"), "code": code[1]}
        )
        assert joined.headers["location"] == "/portal?joined=1"
        # A member, not the administrator: no people management.
        members_only = await carl.get("/portal/people")
        assert members_only.status_code == 403 and "Only your organisation" in members_only.text

    # Signing in again with the same address is the same person, bound at once.
    async with console_over(registry, tmp_path) as again:
        await as_supplier(again, "Ann Head", "ann@school.example")
        home = await again.get("/", follow_redirects=False)
        assert home.headers["location"] == "/portal"
        assert (await again.get("/portal/people")).status_code == 200
    assert school


async def test_a_new_provider_is_registered_and_the_officer_gives_its_urn(
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(registry, tmp_path) as bea:
        await as_supplier(bea, "Bea Bursar", "bea@willow.example")
        form = await bea.get("/portal/register/new")
        hidden = form_of(form.text, "/portal/register/new")
        typed = {
            **hidden,
            "person_name": "Bea Bursar",
            "person_email": "bea@willow.example",
            "name": "Willow School",
            "proprietor": "Willow Trust",
            "provider_type": "independent_special_school",
            "address": "2 Willow Road",
            "postcode": "nowhere",
            "age_low": "5",
            "age_high": "eleven",
            "capacity": "30",
            "attendance": "day",
            "need_types": "SEMH",
        }
        bad = await bea.post("/portal/register/new", data=typed)
        assert bad.status_code == 400 and 'href="#age_high"' in bad.text
        typed = {**typed, **form_of(bad.text, "/portal/register/new"), "age_high": "11"}
        bad = await bea.post("/portal/register/new", data=typed)
        assert bad.status_code == 400 and 'href="#postcode"' in bad.text
        assert 'value="Willow School"' in bad.text  # what was typed stays
        typed = {**typed, **form_of(bad.text, "/portal/register/new"), "postcode": "TN23 1AA"}
        sent = await bea.post("/portal/register/new", data=typed)
        assert sent.headers["location"] == "/portal/register/status?sent=1"

    async with console_over(registry, tmp_path) as officer:
        await signed_in(officer, "commissioner")
        no_urn = await decide(officer, decision="verify")
        assert no_urn.status_code == 400 and 'href="#urn"' in no_urn.text
        verified = await decide(officer, decision="verify", urn="800010")
        assert verified.status_code == 303, verified.text
        shown = await officer.get(verified.headers["location"])
        assert "Your decision is recorded" in shown.text
        listed = await officer.get("/registrations", params={"status": "verified"})
        assert "Willow School" in listed.text

    async with console_over(registry, tmp_path) as bea:
        await as_supplier(bea, "Bea Bursar", "bea@willow.example")
        assert (await bea.get("/")).headers["location"] == "/portal"


async def test_registration_pages_are_for_their_people_only(
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    other = await on_register(registry, 800020)
    async with console_over(registry, tmp_path) as client:
        # A demo provider (no membership) is nobody's administrator.
        await signed_in(client, f"provider:{other}")
        assert (await client.get("/portal/people")).status_code == 403
        assert (await client.get("/registrations")).status_code == 403
        assert (await client.get("/portal/register")).status_code == 403
    async with console_over(registry, tmp_path) as client:
        await signed_in(client, "monitoring_officer")
        assert (await client.get("/registrations")).status_code == 403
    async with console_over(registry, tmp_path) as client:
        blank = await as_supplier(client, "", "not-an-email")
        assert blank.status_code == 400
        assert 'href="#supplier_name"' in blank.text and 'href="#supplier_email"' in blank.text


async def _admin_and_member(registry: ServiceRuntime, tmp_path: Path, urn: int) -> str:  # noqa: F811
    """Ann (administrator, by a verified claim) and Carl (member, invited)."""
    await on_register(registry, urn)
    async with console_over(registry, tmp_path) as ann:
        await as_supplier(ann, "Ann Head", "ann@school.example")
        start = await ann.get("/", follow_redirects=True)
        await ann.post(
            "/portal/register/claim",
            data={
                **form_of(start.text, "/portal/register/claim"),
                "urn": str(urn),
                "person_name": "Ann Head",
                "person_email": "ann@school.example",
            },
        )
        async with console_over(registry, tmp_path) as officer:
            await signed_in(officer, "commissioner")
            assert (await decide(officer, decision="verify")).status_code == 303
        done = await ann.get("/portal/register/status")
        await ann.post(
            "/portal/register/continue", data=form_of(done.text, "/portal/register/continue")
        )
        people = await ann.get("/portal/people")
        invited = await ann.post(
            "/portal/people/invitations",
            data={
                **form_of(people.text, "/portal/people/invitations"),
                "name": "Carl Clerk",
                "email": "carl@school.example",
                "role": "member",
            },
        )
        code = re.search(r'<code id="invitation-code">([^<]+)</code>', invited.text)
        assert code
    async with console_over(registry, tmp_path) as carl:
        await as_supplier(carl, "Carl Clerk", "carl@school.example")
        join = await carl.get("/portal/join")
        joined = await carl.post(
            "/portal/join", data={**form_of(join.text, "/portal/join"), "code": code[1]}
        )
        assert joined.headers["location"] == "/portal?joined=1"
    return code[1]


def _change_link(html: str, action: str, name: str) -> str:
    found = re.search(
        rf'href="(/portal/people/[^"/]+/{action})">[^<]*'
        rf'<span class="govuk-visually-hidden"> \({name}\)',
        html,
    )
    assert found, html
    return found[1]


async def test_the_administrator_removes_a_person_who_is_then_a_plain_supplier(
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _admin_and_member(registry, tmp_path, 800011)
    async with console_over(registry, tmp_path) as ann:
        await as_supplier(ann, "Ann Head", "ann@school.example")
        people = await ann.get("/portal/people")
        # Ann, the only administrator, may not leave: the rule is named in the summary.
        mine = await ann.get(_change_link(people.text, "remove", "Ann Head"))
        assert "Remove Ann Head from your organisation?" in mine.text
        refused = await ann.post(
            "/portal/people/change", data=form_of(mine.text, "/portal/people/change")
        )
        assert refused.status_code == 409
        assert (
            "govuk-error-summary" in refused.text and "at least one administrator" in refused.text
        )
        # Removing Carl asks first, and is done only on the confirming button.
        confirm = await ann.get(_change_link(refused.text, "remove", "Carl Clerk"))
        assert confirm.status_code == 200 and "Remove Carl Clerk" in confirm.text
        assert "carl@school.example" in (await ann.get("/portal/people")).text
        removed = await ann.post(
            "/portal/people/change", data=form_of(confirm.text, "/portal/people/change")
        )
        assert removed.headers["location"] == "/portal/people?done=remove"
        after = await ann.get("/portal/people?done=remove")
        assert "The person was removed" in after.text and "carl@school.example" not in after.text
        # The same form sent again (its idempotency key) changes nothing more.
        resent = await ann.post(
            "/portal/people/change", data=form_of(confirm.text, "/portal/people/change")
        )
        assert resent.status_code in (303, 409)
    # Carl signs in again: a plain supplier, no provider token minted.
    async with console_over(registry, tmp_path) as carl:
        await as_supplier(carl, "Carl Clerk", "carl@school.example")
        home = await carl.get("/", follow_redirects=False)
        assert home.headers["location"] == "/portal/register"
        assert (await carl.get("/portal/people")).status_code == 403


async def test_the_administrator_hands_over_and_a_member_leaves(
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _admin_and_member(registry, tmp_path, 800012)
    async with console_over(registry, tmp_path) as ann:
        await as_supplier(ann, "Ann Head", "ann@school.example")
        people = await ann.get("/portal/people")
        promote = await ann.get(_change_link(people.text, "administrator", "Carl Clerk"))
        assert "Make Carl Clerk an administrator?" in promote.text
        made = await ann.post(
            "/portal/people/change", data=form_of(promote.text, "/portal/people/change")
        )
        assert made.headers["location"] == "/portal/people?done=administrator"
        people = await ann.get("/portal/people")
        step_down = await ann.get(_change_link(people.text, "member", "Ann Head"))
        stepped = await ann.post(
            "/portal/people/change", data=form_of(step_down.text, "/portal/people/change")
        )
        assert stepped.headers["location"] == "/portal"
        members_only = await ann.get("/portal/people")
        assert members_only.status_code == 403 and "Leave your organisation" in members_only.text
        leave = await ann.get("/portal/people/leave")
        left = await ann.post(
            "/portal/people/leave", data=form_of(leave.text, "/portal/people/leave")
        )
        assert left.headers["location"] == "/sign-in"
        assert (await ann.get("/portal/people")).status_code in (303, 401, 403)
    async with console_over(registry, tmp_path) as carl:  # the administrator now
        await as_supplier(carl, "Carl Clerk", "carl@school.example")
        people = await carl.get("/portal/people")
        assert people.status_code == 200 and "ann@school.example" not in people.text
        leave = await carl.get("/portal/people/leave")
        last = await carl.post(
            "/portal/people/leave", data=form_of(leave.text, "/portal/people/leave")
        )
        assert last.status_code == 409 and "at least one administrator" in last.text
