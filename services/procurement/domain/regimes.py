"""Regimes: the law a scheme runs under (PCR 2015 full or light-touch, transition), as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from services.procurement.domain._rules import Rule, _require, rule_broken

# -------------------------------------------------------------------------- regimes


class RegimeCode(StrEnum):
    """Which law a scheme was let under; decides timescales and notices."""

    PCR2015 = "pcr2015"
    PCR2015_LIGHT_TOUCH = "pcr2015_light_touch"
    PA2023_DYNAMIC_MARKET = "pa2023_dynamic_market"


@dataclass(frozen=True, slots=True)
class Regime:
    """The timescales and notice rules of one procurement regime, with their sources."""

    code: RegimeCode
    title: str
    supported: bool
    # Minimum call-off tender period in calendar days; None: the scheme's rules set it.
    statutory_min_tender_days: int | None
    urgent_shortening_allowed: bool
    tender_period_source: str
    application_evaluation_working_days: int
    application_evaluation_max_working_days: int
    evaluation_source: str
    standstill_days: int
    standstill_mandatory: bool
    standstill_source: str
    award_notice_days: int
    award_notice_quarterly_grouping: bool
    award_notice_source: str
    # Who a call-off invites: may the list be tiered (cascade by lot) or screened by
    # ad hoc per-call-off filters (age, distance)? Only where the scheme published it too.
    may_tier: bool = False
    may_screen: bool = False
    invitation_source: str = ""
    # Transition to the Procurement Act 2023: a scheme of this regime must have been
    # established before ``new_schemes_before`` and cannot be used or extended after
    # ``long_stop`` (its last day). None: no such limit.
    new_schemes_before: date | None = None
    long_stop: date | None = None
    transition_source: str = ""


# Procurement Act 2023 go-live, and the last day a PCR 2015 DPS may be used.
PA2023_GO_LIVE = date(2025, 2, 24)
PCR_DPS_LONG_STOP = date(2029, 2, 23)
TRANSITION_SOURCE = (
    "Procurement Act 2023 (Commencement No. 3 and Transitional and Saving Provisions) "
    "Regulations 2024, as amended: procurements begun from 24 February 2025 run under the "
    "Act, so no new PCR 2015 DPS may be established from then; reg 5(4): a PCR 2015 DPS "
    "established before then may not be used after the end of 23 February 2029"
)
FULL_PCR_INVITATION_SOURCE = (
    "PCR 2015 reg 34(21)-(22): every participant admitted to the relevant category is "
    "invited; the list may be narrowed only by categories defined in advance "
    "(reg 34(3)-(4)), never by tiers or ad hoc filters per call-off"
)
LIGHT_TOUCH_INVITATION_SOURCE = (
    "PCR 2015 regs 74-76: the scheme's published rules decide (reg 76(1)-(2)); tiered "
    "call-offs (higher lot first) and age/distance screening apply only where the scheme "
    "published them"
)


REGIMES: Mapping[RegimeCode, Regime] = MappingProxyType(
    {
        RegimeCode.PCR2015: Regime(
            code=RegimeCode.PCR2015,
            title="PCR 2015 dynamic purchasing system",
            supported=True,
            statutory_min_tender_days=10,
            urgent_shortening_allowed=False,
            tender_period_source="PCR 2015 reg 34: tenders at least 10 days from invitation",
            application_evaluation_working_days=10,
            application_evaluation_max_working_days=15,
            evaluation_source="PCR 2015 reg 34: 10 working days, 15 where justified",
            standstill_days=10,
            standstill_mandatory=False,
            standstill_source=(
                "PCR 2015 regs 86-87: standstill need not be applied to a specific contract "
                "under a DPS; a voluntary standstill guards against ineffectiveness (reg 99)"
            ),
            award_notice_days=30,
            award_notice_quarterly_grouping=True,
            award_notice_source=(
                "PCR 2015 reg 50: award notice within 30 days; DPS call-offs may be "
                "grouped quarterly, sent within 30 days of the quarter's end"
            ),
            may_tier=False,
            may_screen=False,
            invitation_source=FULL_PCR_INVITATION_SOURCE,
            new_schemes_before=PA2023_GO_LIVE,
            long_stop=PCR_DPS_LONG_STOP,
            transition_source=TRANSITION_SOURCE,
        ),
        RegimeCode.PCR2015_LIGHT_TOUCH: Regime(
            code=RegimeCode.PCR2015_LIGHT_TOUCH,
            title="PCR 2015 light-touch regime (social and other specific services)",
            supported=True,
            statutory_min_tender_days=None,
            urgent_shortening_allowed=True,
            tender_period_source=(
                "PCR 2015 regs 74-76: the scheme's rules set reasonable timescales"
            ),
            application_evaluation_working_days=10,
            application_evaluation_max_working_days=15,
            evaluation_source="Scheme rules adopting PCR 2015 reg 34 timescales (reg 76)",
            standstill_days=10,
            standstill_mandatory=False,
            standstill_source="PCR 2015 regs 86-87: voluntary for DPS call-offs",
            award_notice_days=30,
            award_notice_quarterly_grouping=True,
            award_notice_source=(
                "PCR 2015 reg 75: award notice within 30 days or grouped quarterly, "
                "sent within 30 days of the quarter's end"
            ),
            may_tier=True,
            may_screen=True,
            invitation_source=LIGHT_TOUCH_INVITATION_SOURCE,
            new_schemes_before=PA2023_GO_LIVE,
            long_stop=PCR_DPS_LONG_STOP,
            transition_source=TRANSITION_SOURCE,
        ),
        # Placeholder so the code exists; schemes under it are refused until implemented.
        RegimeCode.PA2023_DYNAMIC_MARKET: Regime(
            code=RegimeCode.PA2023_DYNAMIC_MARKET,
            title="Procurement Act 2023 dynamic market (not yet implemented)",
            supported=False,
            statutory_min_tender_days=None,
            urgent_shortening_allowed=True,
            tender_period_source="Procurement Act 2023 (not yet implemented)",
            application_evaluation_working_days=10,
            application_evaluation_max_working_days=15,
            evaluation_source="Procurement Act 2023 (not yet implemented)",
            standstill_days=8,
            standstill_mandatory=False,
            standstill_source="Procurement Act 2023 s.51 (working days; not yet implemented)",
            award_notice_days=30,
            award_notice_quarterly_grouping=False,
            award_notice_source="Procurement Act 2023: contract details notice (120 light-touch)",
        ),
    }
)


def regime_for(code: RegimeCode | str) -> Regime:
    """The regime table entry for ``code``; refuses unknown or unsupported regimes."""
    try:
        regime = REGIMES[RegimeCode(code)]
    except ValueError:
        raise rule_broken("regime", Rule.UNKNOWN, f"unknown regime {code!r}")
    _require(regime.supported, "regime", Rule.REGIME_NOT_SUPPORTED, f"{code} is not supported yet")
    return regime
