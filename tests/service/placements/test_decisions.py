"""Commissioner decisions: an offered block place accepted or declined, a placement's
renewal renewed or declined, a block contract's renewal; and spend answering per need
type, per provider and on-contract share."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlmodel import select

from services.placements.models import NeedRow, PlacementRow
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from tests.fixtures import today
from tests.service.placements.conftest import Placements
from tests.service.placements.test_api import _get, _post, rules


def data(message: OutboxMessage) -> dict[str, Any]:
    return dict(json.loads(message.payload)["data"])


async def _block(p: Placements, token: str, places: int = 2, **overrides: Any) -> dict[str, Any]:
    body = {
        "provider_id": "p-3",
        "primary_need": "SEMH",
        "attendance": "day",
        "places": places,
        "term_start": (today() - timedelta(days=10)).isoformat(),
        "term_end": (today() + timedelta(days=700)).isoformat(),
        "weekly_fee_per_place": "1800.00",
        **overrides,
    }
    created = await _post(p, token, "/block-contracts", body)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def _need(p: Placements, child_ref: str) -> NeedRow:
    need_id = await p.request_need(child_ref, primary_need="SEMH", secondary_needs=[])
    async with p.runtime.db.session() as session:
        row = await session.get(NeedRow, need_id)
    assert row is not None
    return row


async def test_accepting_an_offered_block_place_makes_an_on_contract_placement(
    placements: Placements, tokens
) -> None:
    token = tokens[Role.COMMISSIONER]
    block = await _block(placements, token)
    need = await _need(placements, "KCC-EHC-000301")
    assert need.status == "block_place_offered"
    assert not await placements.events("placement.need.raised")
    path = f"/needs/{need.need_id}/block-offer/decision"

    assert (
        await _post(placements, token, path, {"decision": "maybe", "reason": "x"})
    ).status_code == 422
    accepted = await _post(
        placements, token, path, {"decision": "accepted", "reason": "parents agree"}
    )
    assert accepted.status_code == 200, accepted.text
    placement_id = accepted.json()["placement_id"]
    view = (await _get(placements, token, f"/placements/{placement_id}")).json()
    assert view["source"] == "block_contract"
    assert view["block_contract_id"] == block["block_contract_id"]
    assert view["status"] == "pending"  # starts on the required start, 30 days on
    assert view["fee"]["weekly_core_fee"] == "1800.00"
    assert view["term_end"] == block["term_end"]
    assert [r["due_on"] for r in view["reviews"]]  # its first review is scheduled
    need_view = (await _get(placements, token, f"/needs/{need.need_id}")).json()
    assert need_view["status"] == "placed" and need_view["placement_ids"] == [placement_id]
    block_view = (
        await _get(placements, token, f"/block-contracts/{block['block_contract_id']}")
    ).json()
    assert block_view["places_filled"] == 1
    assert block_view["occupants"][0]["occupant_ref"] == placement_id
    decided = await placements.events("placement.need.block_offer_decided")
    assert [data(e)["decision"] for e in decided] == ["accepted"]
    assert len(await placements.events("placement.contract.created")) == 1

    again = await _post(placements, token, path, {"decision": "declined", "reason": "x"})
    assert again.status_code == 409
    # Ending the placement gives the place back.
    ended = await _post(
        placements, token, f"/placements/{placement_id}/end", {"reason": "moved away"}
    )
    assert ended.json()["status"] == "terminated"
    block_view = (
        await _get(placements, token, f"/block-contracts/{block['block_contract_id']}")
    ).json()
    assert block_view["places_filled"] == 0


async def test_declining_an_offered_block_place_frees_it_and_asks_procurement(
    placements: Placements, tokens
) -> None:
    token = tokens[Role.COMMISSIONER]
    block = await _block(placements, token, places=1)
    need = await _need(placements, "KCC-EHC-000302")
    path = f"/needs/{need.need_id}/block-offer/decision"
    no_reason = await _post(placements, token, path, {"decision": "declined"})
    assert no_reason.status_code == 422
    declined = await _post(
        placements, token, path, {"decision": "declined", "reason": "too far for the child"}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["need_status"] == "with_procurement"
    raised = await placements.events("placement.need.raised")
    assert [e.key for e in raised] == [need.need_id]
    assert len(await placements.events("block_contract.place_freed")) == 1
    block_view = (
        await _get(placements, token, f"/block-contracts/{block['block_contract_id']}")
    ).json()
    assert block_view["places_filled"] == 0
    need_view = (await _get(placements, token, f"/needs/{need.need_id}")).json()
    assert need_view["status"] == "with_procurement"
    assert "too far" in need_view["status_reason"]
    # The freed place is offered to the next child.
    other = await _need(placements, "KCC-EHC-000303")
    assert other.status == "block_place_offered"
    assert (
        await _post(placements, token, path, {"decision": "accepted", "reason": "x"})
    ).status_code == 409
    unknown = await _post(
        placements,
        token,
        "/needs/nope/block-offer/decision",
        {"decision": "accepted", "reason": "x"},
    )
    assert unknown.status_code == 404
    forbidden = await _post(
        placements, tokens[Role.PROVIDER], path, {"decision": "accepted", "reason": "x"}
    )
    assert forbidden.status_code == 403


async def test_renewal_decision_renews_or_ends_at_term_end(placements: Placements, tokens) -> None:
    token = tokens[Role.COMMISSIONER]
    row = await placements.active_placement("KCC-EHC-000304")
    path = f"/placements/{row.placement_id}/renewal"
    term_end = row.term_end
    missing = await _post(placements, token, path, {"decision": "renew", "reason": "good"})
    assert missing.status_code == 422 and rules(missing) == {"required_to_renew"}
    backwards = await _post(
        placements,
        token,
        path,
        {"decision": "renew", "new_term_end": term_end.isoformat(), "reason": "good"},
    )
    assert backwards.status_code == 422 and rules(backwards) == {"not_after_term_end"}
    new_end = date(term_end.year + 1, term_end.month, min(term_end.day, 28))
    renewed = await _post(
        placements,
        token,
        path,
        {
            "decision": "renew",
            "new_term_end": new_end.isoformat(),
            "weekly_core_fee": "1600.00",
            "reason": "meeting needs well",
        },
    )
    assert renewed.status_code == 200, renewed.text
    assert (
        renewed.json()["status"] == "active" and renewed.json()["term_end"] == new_end.isoformat()
    )
    view = (await _get(placements, token, f"/placements/{row.placement_id}")).json()
    assert view["fee_history"][-1]["effective_from"] == (term_end + timedelta(days=1)).isoformat()
    assert view["status_history"][-1]["reason"].startswith("renewed to")
    decided = await placements.events("placement.renewal.decided")
    assert data(decided[0])["new_term_end"] == new_end.isoformat()

    declined = await _post(placements, token, path, {"decision": "decline", "reason": "move on"})
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "ending"
    assert declined.json()["end_date"] == new_end.isoformat()
    again = await _post(placements, token, path, {"decision": "decline", "reason": "again"})
    assert again.status_code == 422 and rules(again) == {"not_active"}
    assert (
        await _post(
            placements, token, "/placements/nope/renewal", {"decision": "decline", "reason": "x"}
        )
    ).status_code == 404
    async with placements.runtime.db.session() as session:
        stored = await session.get(PlacementRow, row.placement_id)
    assert stored is not None and stored.status == "ending"


async def test_block_contract_renewal_decision(placements: Placements, tokens) -> None:
    token = tokens[Role.COMMISSIONER]
    block = await _block(placements, token)
    path = f"/block-contracts/{block['block_contract_id']}/renewal"
    term_end = date.fromisoformat(block["term_end"])
    new_end = term_end + timedelta(days=365)
    renewed = await _post(
        placements,
        token,
        path,
        {"decision": "renew", "new_term_end": new_end.isoformat(), "reason": "well used"},
    )
    assert renewed.status_code == 200, renewed.text
    view = (await _get(placements, token, f"/block-contracts/{block['block_contract_id']}")).json()
    assert view["term_end"] == new_end.isoformat()
    assert view["renewal"]["decision"] == "renew"
    assert view["renewal"]["decided_for"] == term_end.isoformat()
    # The new term has its own decision: re-procure it.
    reprocure = await _post(placements, token, path, {"decision": "reprocure", "reason": "market"})
    assert reprocure.status_code == 200
    twice = await _post(placements, token, path, {"decision": "end", "reason": "again"})
    assert twice.status_code == 409
    events = await placements.events("block_contract.renewal_decided")
    assert [data(e)["decision"] for e in events] == ["renew", "reprocure"]
    bad = await _post(
        placements,
        token,
        path,
        {"decision": "end", "new_term_end": new_end.isoformat(), "reason": "x"},
    )
    assert bad.status_code in (409, 422)
    assert (
        await _post(placements, tokens[Role.PROVIDER], path, {"decision": "end", "reason": "x"})
    ).status_code == 403


async def test_spend_per_need_type_provider_and_on_contract_share(
    placements: Placements, tokens
) -> None:
    token = tokens[Role.COMMISSIONER]
    await placements.active_placement("KCC-EHC-000305")  # ASD, DPS award, p-1
    await _block(placements, token)
    need = await _need(placements, "KCC-EHC-000306")  # SEMH, block place, p-3
    accepted = await _post(
        placements,
        token,
        f"/needs/{need.need_id}/block-offer/decision",
        {"decision": "accepted", "reason": "ok", "start_date": today().isoformat()},
    )
    assert accepted.status_code == 200, accepted.text
    fy = today().year if today().month >= 4 else today().year - 1
    spend = (
        await _get(placements, tokens[Role.MONITORING_OFFICER], "/spend", financial_year=fy)
    ).json()
    assert set(spend["by_need_type"]) == {"ASD", "SEMH"}
    assert set(spend["by_provider"]) == {"p-1", "p-3"}
    assert spend["on_contract_share_percent"] == "100.00"
    assert spend["off_contract"] == "0.00"
    assert spend["by_need_type"]["SEMH"]["placements"] == 1
    async with placements.runtime.db.session() as session:
        rows = (await session.exec(select(PlacementRow))).all()
    assert {r.source for r in rows} == {"dps_award", "block_contract"}
