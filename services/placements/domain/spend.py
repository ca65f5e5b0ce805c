"""Placements: committed spend summaries and posting to the ledger without rewriting closed years."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.placements.domain.fees import (
    apportion_by_financial_year,
)
from services.placements.domain.placements import (
    Placement,
)
from shared.contracts.common import NeedType
from shared.contracts.placements_v1 import (
    PlacementSource,
)
from shared.fiscal import (
    PENNY,
    financial_year_of,
)


def committed_spend_by_financial_year(placement: Placement) -> dict[int, Decimal]:
    """Committed cost of a placement per financial year, start to last day (inclusive)."""
    last_day = placement.last_day
    if last_day is None:
        return {}
    return apportion_by_financial_year(
        placement.fee_history, placement.start_date, last_day, placement.weeks_per_year
    )


@dataclass(frozen=True, slots=True)
class SpendLine:
    """One placement's committed spend in one financial year."""

    placement_id: str
    provider_id: str
    primary_need: NeedType
    source: PlacementSource
    on_contract: bool
    financial_year: int
    amount: Decimal


def spend_lines(placements: Iterable[Placement]) -> list[SpendLine]:
    """Committed spend per placement per financial year."""
    return [
        SpendLine(
            placement_id=p.placement_id,
            provider_id=p.provider_id,
            primary_need=p.primary_need,
            source=p.source,
            on_contract=p.on_contract,
            financial_year=fy,
            amount=amount,
        )
        for p in placements
        for fy, amount in committed_spend_by_financial_year(p).items()
    ]


@dataclass(frozen=True, slots=True)
class SpendSummary:
    """Committed spend totals for dashboards: per year, need type, provider, contract."""

    total: Decimal
    on_contract: Decimal
    off_contract: Decimal
    by_financial_year: dict[int, Decimal]
    by_need_type: dict[NeedType, Decimal]
    by_provider: dict[str, Decimal]
    placements_by_need_type: dict[NeedType, int]

    @property
    def on_contract_share_percent(self) -> Decimal | None:
        """On-contract spend as a % of all spend (2 dp, half-up); None when nothing is spent."""
        if self.total == 0:
            return None
        return (self.on_contract * 100 / self.total).quantize(PENNY, rounding=ROUND_HALF_UP)

    def average_cost_by_need_type(self) -> dict[NeedType, Decimal]:
        """Mean committed spend per placement for each need type (2 dp, half-up)."""
        return {
            need: (amount / self.placements_by_need_type[need]).quantize(PENNY, ROUND_HALF_UP)
            for need, amount in self.by_need_type.items()
        }


def _add(totals: dict[Any, Decimal], key: Any, amount: Decimal) -> None:
    totals[key] = totals.get(key, Decimal("0.00")) + amount


def summarise_spend(
    placements: Iterable[Placement], financial_year: int | None = None
) -> SpendSummary:
    """Committed spend across placements, optionally for one financial year only.

    On-contract = bought under a DPS award or a block contract; off-contract = spot.
    """
    by_fy: dict[int, Decimal] = {}
    by_need: dict[NeedType, Decimal] = {}
    by_provider: dict[str, Decimal] = {}
    counted: dict[NeedType, set[str]] = {}
    on = off = Decimal("0.00")
    for line in spend_lines(placements):
        if financial_year is not None and line.financial_year != financial_year:
            continue
        _add(by_fy, line.financial_year, line.amount)
        _add(by_need, line.primary_need, line.amount)
        _add(by_provider, line.provider_id, line.amount)
        counted.setdefault(line.primary_need, set()).add(line.placement_id)
        if line.on_contract:
            on += line.amount
        else:
            off += line.amount
    return SpendSummary(
        total=on + off,
        on_contract=on,
        off_contract=off,
        by_financial_year=dict(sorted(by_fy.items())),
        by_need_type=by_need,
        by_provider=by_provider,
        placements_by_need_type={need: len(ids) for need, ids in counted.items()},
    )


@dataclass(frozen=True, slots=True)
class LedgerPosting:
    """What each financial year's ledger line holds after a change.

    ``adjustment`` is the part of the current year's line that corrects closed years.
    """

    amounts: dict[int, Decimal]
    current_year: int | None
    adjustment: Decimal


def post_to_ledger(
    computed: Mapping[int, Decimal], held: Mapping[int, Decimal], today: date | None
) -> LedgerPosting:
    """Post a recomputed commitment without rewriting a closed financial year.

    A year is closed once the current financial year (1 April - 31 March, as councils keep
    accounts: Local Government Act 2003 s.21 and the CIPFA Code) is later. A closed year
    that holds a posted line keeps it; the difference between what it would now cost and
    what it holds (a back-dated variation or uplift, an early end) is posted as an
    adjustment in the current year's line. Recomputed from scratch each time, so it is
    idempotent, and a credit larger than the current year's line (which is never below 0)
    is carried forward to the next year's posting. A closed year never posted before (an
    imported history) is written once. Without ``today`` nothing is frozen.
    """
    years = sorted(set(computed) | set(held))
    zero = Decimal("0.00")
    if today is None:
        return LedgerPosting({fy: computed.get(fy, zero) for fy in years}, None, zero)
    current = financial_year_of(today)
    amounts: dict[int, Decimal] = {}
    correction = zero
    for fy in years:
        if fy < current and fy in held:
            amounts[fy] = held[fy]
            correction += computed.get(fy, zero) - held[fy]
        else:
            amounts[fy] = computed.get(fy, zero)
    if correction == 0:
        return LedgerPosting(amounts, current, zero)
    own = computed.get(current, zero)
    amounts[current] = max(zero, own + correction)
    return LedgerPosting(dict(sorted(amounts.items())), current, amounts[current] - own)
