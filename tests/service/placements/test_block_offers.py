"""Block place offers answered by the block's provider, and block contracts listed with
their utilisation: accept makes the placement, decline (with a reason) sends the need to
a call-off, an offer is answered once, by its answer-by date, and only by its provider."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.placements import domain
from services.placements.models import BlockOfferRow, NeedRow
from shared.auth import issue_token
from shared.contracts.common import Role
from tests.conftest import RUN_TTL, TEST_SECRET
from tests.fixtures import today
from tests.service.placements.conftest import Placements
from tests.service.placements.test_api import _get, _post, rules
from tests.service.placements.test_decisions import _block, _need, data

P3 = issue_token(TEST_SECRET, Role.PROVIDER, provider_id="p-3", ttl=RUN_TTL)  # the block's provider


async def _offer_of(p: Placements, need_id: str) -> dict[str, Any]:
    found = (await _get(p, P3, "/block-offers")).json()
    mine = [o for o in found["items"] if o["status"] == "open"]
    assert len(mine) == 1, found
    return dict(mine[0])


async def test_the_blocks_provider_accepts_an_offer_and_the_placement_is_made(
    placements: Placements, tokens
) -> None:
    council = tokens[Role.COMMISSIONER]
    block = await _block(placements, council)
    need = await _need(placements, "KCC-EHC-000401")
    offer = await _offer_of(placements, need.need_id)
    assert offer["block_contract_id"] == block["block_contract_id"]
    assert offer["need"]["primary_need"] == "SEMH"
    assert "need_id" not in offer and "child_ref" not in str(offer)  # minimised
    assert (
        offer["respond_by"]
        == (today() + timedelta(days=domain.BLOCK_OFFER_RESPONSE_DAYS)).isoformat()
    )
    path = f"/block-offers/{offer['offer_id']}/decision"

    # Another provider cannot see or answer it; the council cannot answer for it here.
    assert (
        await _get(placements, tokens[Role.PROVIDER], path[: -len("/decision")])
    ).status_code == 404
    other = await _post(placements, tokens[Role.PROVIDER], path, {"decision": "accepted"})
    assert other.status_code == 404
    assert (await _post(placements, council, path, {"decision": "accepted"})).status_code == 403
    assert (await _get(placements, tokens[Role.PROVIDER], "/block-offers")).json()["total"] == 0

    accepted = await _post(placements, P3, path, {"decision": "accepted"})
    assert accepted.status_code == 200, accepted.text
    placement_id = accepted.json()["placement_id"]
    view = (await _get(placements, council, f"/placements/{placement_id}")).json()
    assert view["source"] == "block_contract" and view["provider_id"] == "p-3"
    decided = await placements.events("placement.need.block_offer_decided")
    assert [data(e)["decision"] for e in decided] == ["accepted"]
    assert len(await placements.events("placement.contract.created")) == 1
    shown = (await _get(placements, council, f"/block-offers/{offer['offer_id']}")).json()
    assert shown["status"] == "accepted" and shown["placement_id"] == placement_id
    assert shown["need_id"] == need.need_id  # the council sees the need

    twice = await _post(placements, P3, path, {"decision": "declined", "reason": "x"})
    assert twice.status_code == 409 and rules(twice) == {"offer_accepted"}
    # The commissioner's route sees the need placed.
    late = await _post(
        placements,
        council,
        f"/needs/{need.need_id}/block-offer/decision",
        {"decision": "declined", "reason": "x"},
    )
    assert late.status_code == 409


async def test_a_declined_offer_frees_the_place_and_the_need_goes_to_a_call_off(
    placements: Placements, tokens
) -> None:
    council = tokens[Role.COMMISSIONER]
    block = await _block(placements, council, places=1)
    need = await _need(placements, "KCC-EHC-000402")
    offer = await _offer_of(placements, need.need_id)
    path = f"/block-offers/{offer['offer_id']}/decision"
    no_reason = await _post(placements, P3, path, {"decision": "declined", "reason": "  "})
    assert no_reason.status_code == 422 and rules(no_reason) == {"required_to_decline"}
    declined = await _post(
        placements, P3, path, {"decision": "declined", "reason": "cannot meet sensory needs"}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["placement_id"] is None
    raised = await placements.events("placement.need.raised")
    assert [e.key for e in raised] == [need.need_id]
    need_view = (await _get(placements, council, f"/needs/{need.need_id}")).json()
    assert need_view["status"] == "with_procurement"
    assert "sensory" in need_view["status_reason"]
    block_view = (
        await _get(placements, council, f"/block-contracts/{block['block_contract_id']}")
    ).json()
    assert block_view["places_filled"] == 0
    assert [o["status"] for o in block_view["offers"]] == ["declined"]
    again = await _post(placements, P3, path, {"decision": "accepted"})
    assert again.status_code == 409 and rules(again) == {"offer_declined"}
    listed = (await _get(placements, P3, "/block-offers", status="declined")).json()
    assert listed["total"] == 1


async def test_an_expired_offer_is_decided_by_the_commissioner(
    placements: Placements, tokens
) -> None:
    council = tokens[Role.COMMISSIONER]
    await _block(placements, council)
    need = await _need(placements, "KCC-EHC-000403")
    offer = await _offer_of(placements, need.need_id)
    async with placements.runtime.db.session() as session:
        row = await session.get(BlockOfferRow, offer["offer_id"])
        assert row is not None
        row.respond_by = today() - timedelta(days=1)
        session.add(row)
        await session.commit()
    assert (await _get(placements, P3, "/block-offers", status="expired")).json()["total"] == 1
    path = f"/block-offers/{offer['offer_id']}/decision"
    late = await _post(placements, P3, path, {"decision": "accepted"})
    assert late.status_code == 409 and rules(late) == {"offer_expired"}
    # No answer in time: the commissioner goes to a call-off; the offer is withdrawn.
    withdrawn = await _post(
        placements,
        council,
        f"/needs/{need.need_id}/block-offer/decision",
        {"decision": "declined", "reason": "no answer from the provider in 15 days"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    shown = (await _get(placements, council, f"/block-offers/{offer['offer_id']}")).json()
    assert shown["status"] == "withdrawn"
    async with placements.runtime.db.session() as session:
        need_row = await session.get(NeedRow, need.need_id)
    assert need_row is not None and need_row.status == "with_procurement"


async def test_block_contracts_are_listed_with_utilisation_and_cost_per_filled_place(
    placements: Placements, tokens
) -> None:
    council = tokens[Role.COMMISSIONER]
    block = await _block(placements, council, places=2)
    await _block(placements, council, places=1, provider_id="p-9", primary_need="ASD")
    need = await _need(placements, "KCC-EHC-000404")
    offer = await _offer_of(placements, need.need_id)
    accepted = await _post(
        placements, P3, f"/block-offers/{offer['offer_id']}/decision", {"decision": "accepted"}
    )
    assert accepted.status_code == 200
    everything = (await _get(placements, council, "/block-contracts")).json()
    assert everything["total"] == 2
    mine = (await _get(placements, council, "/block-contracts", provider_id="p-3")).json()
    assert mine["total"] == 1
    item = mine["items"][0]
    assert item["places"] == 2 and item["places_filled"] == 1
    assert item["utilisation"]["percent"] == "0.00"  # the placement starts in 30 days
    # Over a period covering its start, one place of two is used: 50%, and each used
    # place costs the council twice the place fee.
    start = today() + timedelta(days=40)
    later = (
        await _get(
            placements,
            council,
            f"/block-contracts/{block['block_contract_id']}",
            **{"from": start.isoformat(), "to": (start + timedelta(days=9)).isoformat()},
        )
    ).json()
    assert later["utilisation"]["percent"] == "50.00"
    assert later["weekly_cost_per_filled_place"] == "3600.00"
    assert [p["placement_id"] for p in later["placements"]] == [accepted.json()["placement_id"]]
    assert later["utilisation_by_month"]
    assert "child_ref" not in str(later["placements"])
    backwards = await _get(
        placements, council, "/block-contracts", **{"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert backwards.status_code == 422 and rules(backwards) == {"before_from"}
    assert (await _get(placements, tokens[Role.PROVIDER], "/block-contracts")).status_code == 403
