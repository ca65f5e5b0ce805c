"""Placements: committed spend summaries and posting to the ledger without rewriting closed years."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from services.placements.domain.basis import BASES
from services.placements.domain.fees import (
    apportion_by_financial_year,
)
from services.placements.domain.placements import (
    Placement,
)
from shared.contracts.placements_v1 import PlacementBasis
from shared.fiscal import (
    PENNY,
    financial_year_label,
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


PLACEMENT_LINE = "placement"  # a placement's own committed cost
# A block's places bought but not filled (the line is keyed by the block contract id).
BLOCK_UNFILLED_LINE = "block_unfilled_places"


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One line of the spend ledger: a commitment in one financial year."""

    placement_id: str  # the block contract id on a block's unfilled-places line
    provider_id: str
    primary_need: str
    on_contract: bool
    financial_year: int
    amount: Decimal
    line: str = PLACEMENT_LINE
    basis: str | None = None  # the placement's legal basis; None: as on_contract implies

    @property
    def legal_basis(self) -> PlacementBasis:
        """The line's basis (recorded; else a block's line is block_contract, another
        on-contract line a DPS call-off, an off-contract one a spot with no basis)."""
        if self.basis:
            return PlacementBasis(self.basis)
        if self.line != PLACEMENT_LINE:
            return PlacementBasis.BLOCK_CONTRACT
        if self.on_contract:
            return PlacementBasis.DPS_CALL_OFF
        return PlacementBasis.OFF_CONTRACT_SPOT


@dataclass(frozen=True, slots=True)
class BasisSpend:
    """Committed spend on one legal basis, in words, with whether it is lawful."""

    basis: str
    label: str
    on_contract: bool
    lawful: bool
    amount: Decimal


@dataclass(frozen=True, slots=True)
class NeedSpend:
    """Committed spend on one primary need: the amount (unfilled block places included),
    the placements it paid for, and the mean per placement (None without a placement)."""

    amount: Decimal
    placements: int
    average: Decimal | None


@dataclass(frozen=True, slots=True)
class LedgerSummary:
    """Committed spend in one financial year (April-March) from the ledger.

    On-contract = bought under a DPS, dynamic market or framework call-off or a block
    contract; off-contract = spot, split by legal basis into lawful (a direct award the
    law allows, below threshold) and non-compliant (no lawful basis recorded).
    """

    financial_year: int
    label: str
    total: Decimal
    on_contract: Decimal
    off_contract: Decimal
    on_contract_share_percent: Decimal | None
    unfilled_block_places: Decimal
    by_need_type: dict[str, NeedSpend]
    by_provider: dict[str, Decimal]
    off_contract_lawful: Decimal = Decimal("0.00")
    off_contract_non_compliant: Decimal = Decimal("0.00")
    by_basis: dict[str, BasisSpend] = field(default_factory=dict)


def _share_of(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a % of ``whole`` (2 dp, half-even); None when ``whole`` is nothing."""
    return None if whole == 0 else (part * 100 / whole).quantize(PENNY, ROUND_HALF_EVEN)


def _add(totals: dict[str, Decimal], key: str, amount: Decimal) -> None:
    totals[key] = totals.get(key, Decimal("0.00")) + amount


def summarise_ledger(lines: Iterable[LedgerLine], financial_year: int) -> LedgerSummary:
    """Committed spend in ``financial_year`` from its ledger lines (other years' are left out).

    A zero line (a withdrawn commitment) counts for nothing. A block's unfilled places are
    spend (in the totals, per need and per provider) but not a placement: they are not
    counted among a need's placements, and are totalled as ``unfilled_block_places``.
    A closed year's line keeps the adjustment posted to it (``post_to_ledger``).
    """
    by_need: dict[str, Decimal] = {}
    by_provider: dict[str, Decimal] = {}
    by_basis: dict[str, Decimal] = {}
    counted: dict[str, set[str]] = {}
    on = off = unfilled = non_compliant = Decimal("0.00")
    for line in lines:
        if line.financial_year != financial_year or line.amount == 0:
            continue
        _add(by_need, line.primary_need, line.amount)
        _add(by_provider, line.provider_id, line.amount)
        placements = counted.setdefault(line.primary_need, set())
        if line.line == PLACEMENT_LINE:
            placements.add(line.placement_id)
        else:
            unfilled += line.amount
        basis = line.legal_basis
        _add(by_basis, basis.value, line.amount)
        if line.on_contract:
            on += line.amount
        else:
            off += line.amount
            if not BASES[basis].lawful:
                non_compliant += line.amount
    total = on + off
    return LedgerSummary(
        financial_year=financial_year,
        label=financial_year_label(financial_year),
        total=total,
        on_contract=on,
        off_contract=off,
        on_contract_share_percent=_share_of(on, total),
        unfilled_block_places=unfilled,
        by_need_type={
            need: NeedSpend(
                amount=amount,
                placements=len(counted[need]),
                average=(amount / len(counted[need])).quantize(PENNY, ROUND_HALF_EVEN)
                if counted[need]
                else None,
            )
            for need, amount in sorted(by_need.items())
        },
        by_provider=dict(sorted(by_provider.items())),
        off_contract_lawful=off - non_compliant,
        off_contract_non_compliant=non_compliant,
        by_basis={
            basis.value: BasisSpend(
                basis.value,
                BASES[basis].label,
                BASES[basis].on_contract,
                BASES[basis].lawful,
                by_basis[basis.value],
            )
            for basis in BASES  # in the table's order: on-contract first, non-compliant last
            if basis.value in by_basis
        },
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
