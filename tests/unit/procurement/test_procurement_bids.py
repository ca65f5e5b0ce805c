"""Bids: who may bid, until when, and what a well-formed bid is."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.procurement.domain import (
    BidOffer,
    BidReceipt,
    ChargeBasis,
    Competition,
    DomainError,
    FeeBasis,
    MembershipStatus,
    Rule,
    SupportItem,
    close_competition,
    open_competition,
    submit_bid,
)

from .builders import DEADLINE, NOW, docs_for, member, offer, register, scheme, spec

PIDS = ("P1", "P2")


def call_off() -> Competition:
    return open_competition(
        scheme(),
        spec(),
        deadline_at=DEADLINE,
        memberships=[member(p) for p in PIDS],
        providers=register(*PIDS),
        documents=docs_for(PIDS),
        now=NOW,
    )


def send(o: BidOffer, **kw: Any) -> BidReceipt:
    args: dict[str, Any] = {
        "bid_id": "B1",
        "membership": member(o.provider_id),
        "now": NOW + timedelta(days=2),
    }
    args.update(kw)
    return submit_bid(kw.pop("competition", call_off()), o, **args)


def test_invited_member_bids_before_the_deadline() -> None:
    receipt = send(offer("P1"))
    assert receipt.superseded is None
    b = receipt.bid
    assert (b.competition_id, b.round, b.version, b.provider_id) == ("C1", 1, 1, "P1")
    assert b.offer.annual_cost == Decimal("57000.00")


def test_resubmission_replaces_the_live_bid() -> None:
    first = send(offer("P1")).bid
    second = send(offer("P1", "1400.00"), bid_id="B2", live_bids=[first])
    assert second.superseded == first
    assert (second.bid.version, second.bid.replaces_bid_id) == (2, "B1")
    third = send(offer("P1", "1300.00"), bid_id="B3", live_bids=[first, second.bid])
    assert (third.bid.version, third.bid.replaces_bid_id) == (3, "B2")


def test_late_bid_is_refused() -> None:
    with pytest.raises(DomainError) as e:
        send(offer("P1"), now=DEADLINE)
    assert e.value.rule is Rule.BID_LATE


def test_uninvited_bid_is_refused() -> None:
    with pytest.raises(DomainError) as e:
        send(offer("P9"))
    assert (e.value.field, e.value.rule) == ("provider_id", Rule.NOT_INVITED)


def test_suspended_member_bid_is_refused() -> None:
    with pytest.raises(DomainError) as e:
        send(offer("P1"), membership=member("P1", status=MembershipStatus.SUSPENDED))
    assert e.value.rule is Rule.MEMBER_NOT_ACTIVE
    assert "suspended" in e.value.message


def test_bid_without_membership_is_refused() -> None:
    with pytest.raises(DomainError) as e:
        send(offer("P1"), membership=None)
    assert e.value.rule is Rule.MEMBER_NOT_ACTIVE


def test_bid_on_a_closed_call_off_is_refused() -> None:
    closed = close_competition(call_off(), DEADLINE)
    with pytest.raises(DomainError) as e:
        submit_bid(closed, offer("P1"), bid_id="B1", membership=member("P1"), now=DEADLINE)
    assert e.value.rule is Rule.COMPETITION_NOT_OPEN


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"core_fee": Decimal(0)}, "core_fee"),
        ({"core_fee": Decimal("1500.005")}, "core_fee"),
        ({"core_fee": Decimal("NaN")}, "core_fee"),
        ({"weeks_per_year": 53}, "weeks_per_year"),
        ({"weeks_per_year": 0}, "weeks_per_year"),
        ({"start_date": date(2026, 3, 1)}, "start_date"),
        ({"answers": {"fit": "yes"}}, "answers.transition"),
        ({"answers": {"fit": "yes", "transition": " "}}, "answers.transition"),
        ({"answers": {"fit": "a", "transition": "b", "price": "c"}}, "answers.price"),
        (
            {"additional_support": (SupportItem(" ", Decimal(10), ChargeBasis.WEEKLY),)},
            "additional_support.0.description",
        ),
        (
            {"additional_support": (SupportItem("1:1", Decimal(-1), ChargeBasis.WEEKLY),)},
            "additional_support.0.amount",
        ),
    ],
)
def test_malformed_bids_are_refused(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as e:
        send(replace(offer("P1"), **overrides))
    assert (e.value.field, e.value.rule) == (field, Rule.BID_MALFORMED)


def test_costs_of_an_itemised_bid() -> None:
    o = offer(
        "P1",
        "1000.00",
        weeks=38,
        additional_support=(
            SupportItem("1:1 teaching assistant", Decimal("250.00"), ChargeBasis.WEEKLY),
            SupportItem("Speech and language therapy", Decimal("3000.00"), ChargeBasis.ANNUAL),
            SupportItem("Specialist seating", Decimal("800.00"), ChargeBasis.ONE_OFF),
        ),
    )
    assert o.annual_core_fee == Decimal("38000.00")
    assert o.annual_support_cost == Decimal("9500.00") + Decimal("3000.00") + Decimal("800.00")
    assert o.annual_cost == Decimal("51300.00")
    assert o.weekly_core_fee == Decimal("1000.00")


def test_annual_fee_gives_a_weekly_equivalent() -> None:
    o = offer("P1", "100000.00", weeks=52, fee_basis=FeeBasis.ANNUAL)
    assert o.annual_core_fee == Decimal("100000.00")
    assert o.weekly_core_fee == Decimal("1923.08")
