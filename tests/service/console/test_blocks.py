"""The console's block contract pages (list with utilisation and CSV, a block's page with
its chart and renewal, the commissioner's create form) and the provider portal's block
place offers (accept, decline with a reason, another provider's offer is not found),
against the real placements service in-process."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from services.placements.models import BlockOfferRow
from tests.fixtures import today
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import console_settings, sign_in  # noqa: F401
from tests.service.console.test_placements import console_over
from tests.service.placements.conftest import Placements, placements  # noqa: F401


def _block_form(**overrides: str) -> dict[str, str]:
    return {
        "provider_id": "p-3",
        "primary_need": "SEMH",
        "attendance": "day",
        "places": "2",
        "term_start": (today() - timedelta(days=10)).isoformat(),
        "term_end": (today() + timedelta(days=700)).isoformat(),
        "weekly_fee_per_place": "1,800.00",
        "notice_period_weeks": "12",
        **overrides,
    }


async def _offer_ids(service: Placements) -> list[str]:
    async with service.runtime.db.session() as session:
        return [r.offer_id for r in (await session.exec(select(BlockOfferRow))).all()]


async def test_a_commissioner_creates_a_block_and_reads_its_utilisation(
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "commissioner")
        listed = await client.get("/placements")
        assert 'href="/block-contracts"' in listed.text
        new = await client.get("/block-contracts/new")
        assert new.status_code == 200
        hidden = form_of(new.text, "/block-contracts")
        empty = await client.post("/block-contracts", data={**hidden})
        assert empty.status_code == 400
        assert "There is a problem" in empty.text and 'href="#provider_id"' in empty.text
        backwards = await client.post(
            "/block-contracts",
            data={**hidden, **_block_form(term_end=(today() - timedelta(days=20)).isoformat())},
        )
        assert backwards.status_code == 400 and 'href="#term_end"' in backwards.text
        hidden = form_of(backwards.text, "/block-contracts")  # a fresh one-time key
        made = await client.post("/block-contracts", data={**hidden, **_block_form()})
        assert made.status_code == 303, made.text
        block_path = made.headers["location"].split("?")[0]
        shown = await client.get(made.headers["location"])
        assert "The block contract was created." in shown.text
        assert "<svg" in shown.text and "Places filled by month" in shown.text
        assert "Record renewal decision" in shown.text

        # A child's need takes a place; the provider accepts it in the portal (below the
        # block's page shows the placement by its id only).
        await placements.request_need("KCC-EHC-000501", primary_need="SEMH", secondary_needs=[])
        offered = await client.get(block_path)
        assert "Offered, awaiting the provider" in offered.text
        assert "KCC-EHC-000501" not in offered.text

        everything = await client.get("/block-contracts", params={"provider_id": "p-3"})
        assert "1 block contract" in everything.text and "0.00%" in everything.text
        bad_period = await client.get("/block-contracts", params={"from": "2026-13-01"})
        assert bad_period.status_code == 400 and 'href="#from"' in bad_period.text
        download = await client.get("/block-contracts.csv", params={"provider_id": "p-3"})
        assert download.status_code == 200
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert [r["places"] for r in rows] == ["2"] and rows[0]["places_filled"] == "1"

        renewal = form_of(shown.text, f"{block_path}/renewal")
        no_reason = await client.post(f"{block_path}/renewal", data={**renewal, "decision": "end"})
        assert no_reason.status_code == 400 and 'href="#renewal_reason"' in no_reason.text
        renewal = form_of(no_reason.text, f"{block_path}/renewal")
        decided = await client.post(
            f"{block_path}/renewal",
            data={**renewal, "decision": "end", "renewal_reason": "places not used"},
        )
        assert decided.status_code == 303
        after = await client.get(decided.headers["location"])
        assert "The renewal decision was recorded." in after.text
        assert "Record renewal decision" not in after.text

    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        read = await client.get("/block-contracts")
        assert read.status_code == 200 and "Create a block contract" not in read.text
        assert (await client.get("/block-contracts/new")).status_code == 403


async def test_a_provider_answers_its_block_place_offers_in_the_portal(
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "commissioner")
        hidden = form_of((await client.get("/block-contracts/new")).text, "/block-contracts")
        made = await client.post("/block-contracts", data={**hidden, **_block_form()})
        assert made.status_code == 303
    await placements.request_need("KCC-EHC-000502", primary_need="SEMH", secondary_needs=[])
    await placements.request_need("KCC-EHC-000503", primary_need="SEMH", secondary_needs=[])
    first, second = sorted(await _offer_ids(placements))

    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "provider:p-1")  # not the block's provider
        assert "No offers are waiting" in (await client.get("/portal/block-offers")).text
        assert (await client.get(f"/portal/block-offers/{first}")).status_code == 404

    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "provider:p-3")
        listed = await client.get("/portal/block-offers")
        assert listed.status_code == 200
        assert f"/portal/block-offers/{first}" in listed.text
        assert "KCC-EHC-0005" not in listed.text  # no child reference for the provider
        page = await client.get(f"/portal/block-offers/{first}")
        action = f"/portal/block-offers/{first}/decision"
        hidden = form_of(page.text, action)
        no_reason = await client.post(action, data={**hidden, "decision": "declined"})
        assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text
        hidden = form_of(no_reason.text, action)
        declined = await client.post(
            action, data={**hidden, "decision": "declined", "reason": "no room in class"}
        )
        assert declined.status_code == 303
        done = await client.get(declined.headers["location"])
        assert "You declined the place." in done.text and "Send answer" not in done.text

        action = f"/portal/block-offers/{second}/decision"
        hidden = form_of((await client.get(f"/portal/block-offers/{second}")).text, action)
        accepted = await client.post(action, data={**hidden, "decision": "accepted"})
        assert accepted.status_code == 303
        assert "You accepted the place." in (await client.get(accepted.headers["location"])).text
        again = await client.post(action, data={**hidden, "decision": "accepted"})
        # The same form twice acts once (its one-time key): the first answer comes back.
        assert again.status_code == 303
    assert len(await placements.events("placement.contract.created")) == 1
    raised = await placements.events("placement.need.raised")
    assert len(raised) == 1

    async with console_over(placements, tmp_path) as client:
        csrf = await sign_in(client, "provider:p-1")  # another provider, a real session
        other = await client.post(
            f"/portal/block-offers/{second}/decision",
            data={"csrf_token": csrf, "decision": "declined", "reason": "not ours"},
        )
        assert other.status_code == 404
