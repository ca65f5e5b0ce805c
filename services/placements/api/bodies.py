"""Request bodies of the placements API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.api_types import RequestBody
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import (
    ReviewOutcome,
    UpliftDecision,
)

# --- bodies -------------------------------------------------------------------------------


class SupportItemIn(RequestBody):
    description: str = Field(min_length=1, max_length=200)
    weekly_amount: Decimal


class ReviewOutcomeIn(RequestBody):
    outcome: ReviewOutcome
    completed_on: date | None = None  # default: today


class UpliftIn(RequestBody):
    requested_percent: Decimal
    effective_from: date
    reason: str | None = Field(default=None, max_length=1000)


class UpliftDecisionIn(RequestBody):
    decision: UpliftDecision
    approved_percent: Decimal | None = None
    reason: str | None = Field(default=None, max_length=1000)


class VariationIn(RequestBody):
    effective_from: date
    weekly_core_fee: Decimal | None = None
    additional_support: list[SupportItemIn] | None = None
    reason: str = Field(max_length=1000)


class EndIn(RequestBody):
    """Ending: by the council with notice, by the provider, or at once (terminate)."""

    by: str = Field(default="council", pattern="^(council|provider)$")
    notice_given_on: date | None = None  # default: today
    terminate: bool = False  # end at once instead of running the notice period
    reason: str = Field(min_length=1, max_length=1000)


class BlockOfferDecisionIn(RequestBody):
    """Accept the offered block place (a placement is made in it) or decline it (the place
    is freed and the need goes to procurement for a call-off)."""

    decision: Literal["accepted", "declined"]
    reason: str = Field(min_length=1, max_length=1000)
    start_date: date | None = None  # accepted: default the need's required start (or today)


class RenewalDecisionIn(RequestBody):
    """Renew the term (new term end, optionally a new weekly core fee from the new term)
    or decline (the placement ends at its term end)."""

    decision: Literal["renew", "decline"]
    new_term_end: date | None = None
    weekly_core_fee: Decimal | None = None
    reason: str = Field(min_length=1, max_length=1000)


class BlockRenewalDecisionIn(RequestBody):
    """Renew the block (new term end), re-procure it, or let it end at term end."""

    decision: Literal["renew", "reprocure", "end"]
    new_term_end: date | None = None
    reason: str = Field(min_length=1, max_length=1000)


class BlockContractIn(RequestBody):
    provider_id: str = Field(min_length=1, max_length=64)
    primary_need: NeedType
    attendance: Attendance
    places: int
    term_start: date
    term_end: date
    weekly_fee_per_place: Decimal
    notice_period_weeks: int = 12
    competition_ref: str | None = Field(default=None, max_length=64)
    weeks_per_year: int | None = None  # weeks each place is paid for; default by attendance
