"""Block place offers (answer-by date, answered once) and block utilisation over a period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.placements import domain
from shared.contracts.common import Attendance, NeedType
from shared.errors import Conflict

START = date(2026, 9, 1)


def _block(places: int = 2) -> domain.BlockContract:
    return domain.new_block_contract(
        "b-1", "p-3", NeedType.SEMH, Attendance.DAY, places, START, date(2027, 8, 31),
        Decimal("1000.00"), 12,
    )  # fmt: skip


def _offer() -> domain.BlockOffer:
    return domain.BlockOffer("o-1", "n-1", "b-1", 1, "p-3", START, START + timedelta(days=15))


def test_an_offer_is_answered_once_and_by_its_date() -> None:
    offer = _offer()
    domain.require_answerable(offer, START + timedelta(days=15))  # the last day still counts
    with pytest.raises(Conflict) as late:
        domain.require_answerable(offer, START + timedelta(days=16))
    assert late.value.rule == "offer_expired"
    assert domain.block_offer_state(offer, START + timedelta(days=16)).value == "expired"
    at = datetime(2026, 9, 2, tzinfo=UTC)
    with pytest.raises(domain.DomainError):
        domain.settle_block_offer(offer, domain.BlockOfferStatus.DECLINED, "p", at, " ")
    accepted = domain.settle_block_offer(offer, domain.BlockOfferStatus.ACCEPTED, "p", at)
    with pytest.raises(Conflict) as twice:
        domain.require_answerable(accepted, START)
    assert twice.value.rule == "offer_accepted"


def test_utilisation_counts_filled_place_days_within_the_term() -> None:
    block = _block(places=2)
    # One place filled all of September, the other from the 16th.
    occupancy = [(START, None), (date(2026, 9, 16), None)]
    september = domain.block_utilisation(block, occupancy, START, date(2026, 9, 30))
    assert september.place_days == 60 and september.filled_days == 30 + 15
    assert september.percent == Decimal("75.00")
    assert september.average_places_filled == Decimal("1.50")
    # Days before the term are not bought, so not counted either way.
    before = domain.block_utilisation(block, occupancy, date(2026, 8, 1), date(2026, 8, 31))
    assert before.place_days == 0 and before.percent == Decimal("0.00")
    months = domain.monthly_utilisation(block, occupancy, date(2026, 8, 1), date(2026, 10, 31))
    assert [m.period_start for m in months] == [START, date(2026, 10, 1)]
    assert domain.weekly_cost_per_filled_place(block, Decimal("50.00")) == Decimal("2000.00")
    assert domain.weekly_cost_per_filled_place(block, Decimal("0")) is None


def test_the_utilisation_period_defaults_to_the_year_up_to_today() -> None:
    today = date(2027, 3, 31)
    assert domain.utilisation_period(None, None, today) == (date(2026, 4, 1), today)
    assert domain.utilisation_period(None, date(2026, 12, 31), today) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert domain.utilisation_period(START, None, today) == (START, today)
    one_day = domain.utilisation_period(START, START, today)
    assert one_day == (START, START)


def test_the_utilisation_period_is_not_backwards_nor_over_ten_years() -> None:
    today = date(2027, 3, 31)
    with pytest.raises(domain.DomainError) as backwards:
        domain.utilisation_period(START, START - timedelta(days=1), today)
    assert (backwards.value.field, backwards.value.rule) == ("to", "before_from")
    ten_years = START + timedelta(days=366 * 10)
    assert domain.utilisation_period(START, ten_years, today) == (START, ten_years)
    with pytest.raises(domain.DomainError) as too_long:
        domain.utilisation_period(START, ten_years + timedelta(days=1), today)
    assert (too_long.value.field, too_long.value.rule) == ("from", "period_over_ten_years")


def _matches(offers: domain.OffersInState, offer: domain.BlockOffer) -> bool:
    """What the store's query keeps, in Python."""
    return (
        offer.status == offers.stored
        and (offers.respond_by_before is None or offer.respond_by < offers.respond_by_before)
        and (
            offers.respond_by_on_or_after is None
            or offer.respond_by >= offers.respond_by_on_or_after
        )
    )


def test_the_offers_queried_in_a_state_are_those_shown_in_it() -> None:
    respond_by = START + timedelta(days=15)
    stored = [s for s in domain.BlockOfferStatus if s != domain.BlockOfferStatus.EXPIRED]
    offers = [replace(_offer(), status=status) for status in stored]
    for today in (START, respond_by, respond_by + timedelta(days=1)):
        for state in domain.BlockOfferStatus:
            where = domain.offers_in_state(state, today)
            for offer in offers:
                shown = domain.block_offer_state(offer, today) == state
                assert _matches(where, offer) == shown, (state, offer.status, today)


def test_a_provider_declining_says_why_and_the_council_withdraws_instead() -> None:
    assert domain.provider_offer_answer("accepted", None) == (
        domain.BlockOfferStatus.ACCEPTED,
        "accepted by the provider",
    )
    assert domain.provider_offer_answer("accepted", " fine ") == (
        domain.BlockOfferStatus.ACCEPTED,
        "fine",
    )
    assert domain.provider_offer_answer("declined", " full ") == (
        domain.BlockOfferStatus.DECLINED,
        "full",
    )
    with pytest.raises(domain.DomainError) as no_reason:
        domain.provider_offer_answer("declined", "  ")
    assert (no_reason.value.field, no_reason.value.rule) == ("reason", "required_to_decline")
    assert domain.council_offer_decision("accepted") == domain.BlockOfferStatus.ACCEPTED
    assert domain.council_offer_decision("declined") == domain.BlockOfferStatus.WITHDRAWN
