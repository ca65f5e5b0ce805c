"""Placements: the legal basis a placement was bought on, as data with its sources.

Every placement records why the council could lawfully buy it: a call-off under a DPS,
dynamic market or framework, a place in a block contract, a direct award the law allows
(a user choice contract, a tribunal order naming the school, extreme urgency), a contract
below the procurement threshold, or none at all (an off-contract spot purchase, counted
as non-compliant spend). ``BASES`` holds the words, the lawfulness and the source of each;
docs/law/placement-basis.md publishes the same table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from services.placements.domain._rules import _require
from shared.contracts.placements_v1 import PlacementBasis, PlacementSource


@dataclass(frozen=True, slots=True)
class BasisRule:
    """One legal basis: what it means, whether spend on it is lawful, and why."""

    basis: PlacementBasis
    label: str  # in words, for screens and reports
    # How the placement may have been bought on this basis (a call-off basis only from an
    # award, a direct-award basis only as a spot purchase recorded by hand).
    sources: frozenset[PlacementSource]
    on_contract: bool
    lawful: bool
    # A reference to the decision that justifies it (a tribunal order's reference and
    # date, the council's decision record id), never a child's name.
    needs_reference: bool
    source: str  # the law, with the provision


_AWARD = frozenset({PlacementSource.DPS_AWARD})
_SPOT = frozenset({PlacementSource.SPOT})

BASES: Mapping[PlacementBasis, BasisRule] = MappingProxyType(
    {
        PlacementBasis.DPS_CALL_OFF: BasisRule(
            PlacementBasis.DPS_CALL_OFF,
            "Call-off under a dynamic purchasing system",
            _AWARD,
            on_contract=True,
            lawful=True,
            needs_reference=False,
            source="Public Contracts Regulations 2015 reg 34 (dynamic purchasing systems: "
            "contracts awarded by call-off competition, reg 34(21)-(22)); light-touch "
            "services regs 74-76. Kept in force for a DPS set up before 24 February 2025 "
            "by the Procurement Act 2023 (Commencement No. 3 and Transitional and Saving "
            "Provisions) Regulations 2024.",
        ),
        PlacementBasis.DYNAMIC_MARKET_CALL_OFF: BasisRule(
            PlacementBasis.DYNAMIC_MARKET_CALL_OFF,
            "Call-off under a dynamic market",
            _AWARD,
            on_contract=True,
            lawful=True,
            needs_reference=False,
            source="Procurement Act 2023 s.34 (competitive tendering procedure restricted "
            "to members of a dynamic market, or of a part of it); ss.35-40 (the market).",
        ),
        PlacementBasis.FRAMEWORK_CALL_OFF: BasisRule(
            PlacementBasis.FRAMEWORK_CALL_OFF,
            "Call-off under a framework",
            _AWARD,
            on_contract=True,
            lawful=True,
            needs_reference=False,
            source="Procurement Act 2023 s.45 (frameworks: contracts awarded in "
            "accordance with the framework's award procedure, s.46) and s.49 (open "
            "frameworks).",
        ),
        PlacementBasis.BLOCK_CONTRACT: BasisRule(
            PlacementBasis.BLOCK_CONTRACT,
            "A place in a block contract",
            frozenset({PlacementSource.BLOCK_CONTRACT}),
            on_contract=True,
            lawful=True,
            needs_reference=False,
            source="The block contract itself, awarded by call-off under the DPS, "
            "dynamic market or framework (PCR 2015 reg 34; Procurement Act 2023 ss.34, "
            "45): filling one of its places is performance of that contract, not a new "
            "award.",
        ),
        PlacementBasis.USER_CHOICE: BasisRule(
            PlacementBasis.USER_CHOICE,
            "Direct award: the parent's or young person's choice of school",
            _SPOT,
            on_contract=False,
            lawful=True,
            needs_reference=True,
            source="Procurement Act 2023 s.41 and Schedule 5 para 15 (user choice "
            "contracts: a light touch contract awarded directly to give effect to the "
            "preferences of the person receiving the services; it owes no transparency notice "
            "(s.44) and no contract award notice (s.50(6)(b)); the duty it answers: "
            "Children and Families Act 2014 s.38(2)(b) and s.39(3)-(4) (the school the "
            "parent or young person asks for must be named unless an exception applies).",
        ),
        PlacementBasis.TRIBUNAL_ORDER: BasisRule(
            PlacementBasis.TRIBUNAL_ORDER,
            "Direct award: a tribunal order naming the school",
            _SPOT,
            on_contract=False,
            lawful=True,
            needs_reference=True,
            source="Children and Families Act 2014 s.51 (appeal to the First-tier "
            "Tribunal against the school named in an EHC plan) and the Special "
            "Educational Needs and Disability Regulations 2014 reg 44 (the local "
            "authority must amend the plan to name the school the Tribunal ordered, "
            "within the time limits it sets): the law requires this school; the contract "
            "is a direct award under Procurement Act 2023 s.41 and Sch 5 para 15.",
        ),
        PlacementBasis.URGENT: BasisRule(
            PlacementBasis.URGENT,
            "Direct award: extreme and unavoidable urgency",
            _SPOT,
            on_contract=False,
            lawful=True,
            needs_reference=True,
            source="Procurement Act 2023 s.41 and Schedule 5 para 13 (goods, services or "
            "works strictly necessary for reasons of extreme and unavoidable urgency, "
            "not attributable to the authority); before 24 February 2025 Public "
            "Contracts Regulations 2015 reg 32(2)(c).",
        ),
        PlacementBasis.BELOW_THRESHOLD: BasisRule(
            PlacementBasis.BELOW_THRESHOLD,
            "Below the procurement threshold",
            _SPOT,
            on_contract=False,
            lawful=True,
            needs_reference=True,
            source="Procurement Act 2023 s.3 (a public contract is one of an estimated "
            "value not less than the Schedule 1 threshold; light touch contracts "
            "£663,540 including VAT) and Part 6, ss.84-88 (below-threshold contracts: no "
            "competition is required; a contract of £30,000 or more is notifiable, s.84, "
            "and its contract details notice is due on award, s.87); valued under s.4 and "
            "Schedule 3 (the most the council could expect to pay, never split to avoid "
            "the Act). Before 24 February 2025: PCR 2015 reg 5(1)(d) and Part 4. The "
            "council's contract procedure rules still apply (Local Government Act 1972 "
            "s.135).",
        ),
        PlacementBasis.OFF_CONTRACT_SPOT: BasisRule(
            PlacementBasis.OFF_CONTRACT_SPOT,
            "Spot purchase with no lawful basis recorded",
            _SPOT,
            on_contract=False,
            lawful=False,
            needs_reference=False,
            source="No basis recorded: a contract at or above the threshold awarded "
            "without a competitive procedure or a Schedule 5 direct award justification "
            "breaks Procurement Act 2023 s.19 (before 24 February 2025: PCR 2015 "
            "reg 26), so its spend is reported as non-compliant.",
        ),
    }
)

# The basis a placement has when none was recorded: what its source implies. Rows and
# events from before bases were recorded are read this way (migration 0012 backfills it).
DEFAULT_BASIS: Mapping[PlacementSource, PlacementBasis] = MappingProxyType(
    {
        PlacementSource.DPS_AWARD: PlacementBasis.DPS_CALL_OFF,
        PlacementSource.BLOCK_CONTRACT: PlacementBasis.BLOCK_CONTRACT,
        PlacementSource.SPOT: PlacementBasis.OFF_CONTRACT_SPOT,
    }
)

# A call-off's basis from the regime its scheme was let under (procurement.v1's regime
# codes). An award without a regime (an event published before the field) or with a code
# not known here was a call-off under the DPS this system ran first.
REGIME_BASIS: Mapping[str, PlacementBasis] = MappingProxyType(
    {
        "pcr2015": PlacementBasis.DPS_CALL_OFF,
        "pcr2015_light_touch": PlacementBasis.DPS_CALL_OFF,
        "pa2023_dynamic_market": PlacementBasis.DYNAMIC_MARKET_CALL_OFF,
        "pa2023_open_framework": PlacementBasis.FRAMEWORK_CALL_OFF,
    }
)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A procurement threshold in force from ``effective_from`` (until the next)."""

    effective_from: date
    value: Decimal
    source: str


# The light-touch threshold (education and the other light touch services), including
# VAT. The same figures as procurement's regime data (services/procurement/domain/
# awards.py LIGHT_TOUCH_THRESHOLDS), which a service cannot import; the Act's figure from
# its go-live.
LIGHT_TOUCH_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(date(2018, 1, 1), Decimal("615278"), "PCR 2015 reg 5(1)(d); PPN 04/17"),
    Threshold(date(2020, 1, 1), Decimal("663540"), "PCR 2015 reg 5(1)(d); PPN 06/19"),
    Threshold(
        date(2022, 1, 1),
        Decimal("663540"),
        "PCR 2015 reg 5(1)(d) as amended by SI 2021/1357 (inclusive of VAT); PPN 10/21",
    ),
    Threshold(
        date(2025, 2, 24),
        Decimal("663540"),
        "Procurement Act 2023 Schedule 1 (light touch contract, including VAT)",
    ),
)


def basis_rule(basis: PlacementBasis) -> BasisRule:
    """The rule of a basis."""
    return BASES[basis]


def default_basis(source: PlacementSource) -> PlacementBasis:
    """The basis a placement of ``source`` has when none was recorded."""
    return DEFAULT_BASIS[source]


def basis_for_regime(regime: str | None) -> PlacementBasis:
    """A call-off's basis from its scheme's regime code (absent or unknown: DPS)."""
    return REGIME_BASIS.get(regime or "", PlacementBasis.DPS_CALL_OFF)


def light_touch_threshold(
    on: date, table: Sequence[Threshold] = LIGHT_TOUCH_THRESHOLDS
) -> Threshold | None:
    """The light-touch threshold in force on ``on``; None before the first one known."""
    known = [t for t in table if t.effective_from <= on]
    return max(known, key=lambda t: t.effective_from) if known else None


# A justification reference names a decision, an order or a notice, never a person: it
# has a digit (an order number, a date, a record id) and only reference characters.
_REFERENCE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9 ./:_#-]{0,99}$")


def check_basis(
    source: PlacementSource,
    basis: PlacementBasis,
    reference: str | None,
    awarded_on: date,
    estimated_value: Decimal,
) -> None:
    """A basis fits how the placement was bought, carries its justification reference
    when it needs one, and (below threshold) the placement's value is under the
    light-touch threshold in force on the award date. DomainError names the field."""
    rule = BASES[basis]
    _require(
        source in rule.sources,
        "basis",
        "not_for_source",
        f"a {source.value} placement cannot have the basis {basis.value}",
    )
    if reference is not None:
        _require(
            bool(_REFERENCE.match(reference)),
            "basis_reference",
            "not_a_reference",
            "a reference to the order, notice or decision record (with its number or "
            "date), never a name",
        )
    _require(
        reference is not None or not rule.needs_reference,
        "basis_reference",
        "required_for_basis",
        f"{basis.value} needs the reference of the order, notice or decision justifying it",
    )
    if basis == PlacementBasis.BELOW_THRESHOLD:
        threshold = light_touch_threshold(awarded_on)
        _require(
            threshold is not None and estimated_value < threshold.value,
            "basis",
            "not_below_threshold",
            f"estimated value £{estimated_value} is not below the light-touch threshold"
            + (f" £{threshold.value} ({threshold.source})" if threshold else ""),
        )
