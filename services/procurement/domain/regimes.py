"""Regimes: the law a scheme runs under, as data with its source next to each rule.

PCR 2015 (a DPS, full or light-touch, until the transitional long-stop) and the
Procurement Act 2023 (a dynamic market, ss.34-40, or an open framework, ss.45-49; each
with a light-touch variant for light touch contracts, s.9 and Procurement Regulations
2024 Schedule 1). docs/law/regimes.md tabulates every rule below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from services.procurement.domain._rules import Rule, _require, rule_broken

# -------------------------------------------------------------------------- regimes

FULL_PCR_INVITATION_SOURCE_REF = (
    "PCR 2015 reg 34(21)-(24): each call-off invites every participant admitted to the "
    "relevant category and is awarded on the criteria of the notice for the DPS"
)


class RegimeCode(StrEnum):
    """Which law a scheme was let under; decides timescales and notices."""

    PCR2015 = "pcr2015"
    PCR2015_LIGHT_TOUCH = "pcr2015_light_touch"
    PA2023_DYNAMIC_MARKET = "pa2023_dynamic_market"
    PA2023_OPEN_FRAMEWORK = "pa2023_open_framework"


class CallOffProcedure(StrEnum):
    """How a contract is awarded under the arrangement (its call-offs)."""

    # PCR 2015 reg 34(21)-(24): every admitted participant of the category is invited.
    DPS_CALL_OFF = "dps_call_off"
    # Procurement Act 2023 s.34: a competitive flexible procedure (s.20) in which only
    # members of the dynamic market, or of the relevant part of it, may take part.
    COMPETITIVE_FLEXIBLE_PROCEDURE = "competitive_flexible_procedure"
    # s.46: a competitive selection process among the framework's suppliers.
    COMPETITIVE_SELECTION_PROCESS = "competitive_selection_process"
    # s.45: a call-off without competition, where the framework sets out the terms and
    # the way the supplier is selected.
    FRAMEWORK_DIRECT_AWARD = "framework_direct_award"


@dataclass(frozen=True, slots=True)
class ReopeningRules:
    """An open framework's schedule (Procurement Act 2023 s.49(2), (6))."""

    first_within_years: int  # a framework is awarded again within this many years ...
    then_every_years: int  # ... then at least once in each such period from that award
    max_total_years: int  # the final framework expires by the end of this period
    single_supplier_max_years: int  # s.49(6): a one-supplier framework ends sooner
    source: str


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
    # Procurement Act 2023 regimes: no scheme before the Act's commencement.
    earliest_establishment: date | None = None
    # Standstill counted in working days beginning with the day the notice is published
    # (s.51(2)); False: calendar days after the notices went (PCR 2015 reg 87).
    standstill_working_days: bool = False
    light_touch: bool = False
    call_off_procedures: tuple[CallOffProcedure, ...] = (CallOffProcedure.DPS_CALL_OFF,)
    call_off_source: str = FULL_PCR_INVITATION_SOURCE_REF
    # Joining: any supplier meeting the published conditions may apply at any time
    # (DPS, dynamic market); an open framework admits new suppliers when it is reopened.
    joins_at_any_time: bool = True
    membership_source: str = (
        "PCR 2015 reg 34(2)(b), (15)-(16): open throughout its period to any economic "
        "operator satisfying the selection criteria"
    )
    reopening: ReopeningRules | None = None

    @property
    def under_act(self) -> bool:
        """A Procurement Act 2023 regime (rather than PCR 2015)."""
        return self.earliest_establishment is not None


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


# ------------------------------------------------------ Procurement Act 2023 regimes

ACT = "Procurement Act 2023"
COMMENCEMENT_SOURCE = (
    "Procurement Act 2023 (Commencement No. 3 and Transitional and Saving Provisions) "
    "Regulations 2024, as amended: the Act applies to procurements begun on or after "
    "24 February 2025, so no dynamic market or open framework exists before that day"
)
ACT_STANDSTILL_SOURCE = (
    f"{ACT} s.51(1)-(2): no contract before the end of the mandatory standstill period, "
    "8 working days beginning with the day the contract award notice (s.50) is published; "
    "s.51(3): not mandatory for a contract awarded in accordance with a framework or by "
    "reference to membership of a dynamic market, a light touch contract, or a direct "
    "award for extreme and unavoidable urgency (Sch 5 para 13); where it is not "
    "mandatory the authority may still apply a voluntary standstill of that length"
)
CONTRACT_DETAILS_SOURCE = (
    f"{ACT} s.53: contract details notice within 30 days of entering into the contract "
    "(no quarterly grouping under the Act)"
)
LIGHT_TOUCH_CONTRACT_DETAILS_SOURCE = (
    f"{ACT} s.53: contract details notice for a light touch contract within 120 days "
    "of entering into it (instead of 30)"
)
LIGHT_TOUCH_SOURCE = (
    f"{ACT} s.9 and the Procurement Regulations 2024 Schedule 1: education and social "
    "services (school and residential placements) are light touch services"
)
DM_MEMBERSHIP_SOURCE = (
    f"{ACT} s.35: established by a dynamic market notice (s.39; Procurement Regulations "
    "2024 reg 25) setting out the conditions for membership; s.36: a supplier that "
    "applies and meets the conditions is admitted within a reasonable period, the number "
    "of members may not be limited, an excluded supplier is refused; s.37: an excluded "
    "supplier is removed (an excludable one may be)"
)
DM_EVALUATION_SOURCE = (
    f"{ACT} s.36: applications decided within a reasonable period; the market's "
    "published rules adopt 10 working days, 15 where justified"
)
DM_CALL_OFF_SOURCE = (
    f"{ACT} s.34: call-offs by competitive flexible procedure (s.20) in which only members "
    "of the market, or of the relevant part of it, take part; tenders from non-members "
    "are disregarded"
)
DM_TENDER_SOURCE = (
    f"{ACT} s.54: minimum tendering period of 10 days for a competitive flexible "
    "procedure by reference to a dynamic market"
)
OF_CALL_OFF_SOURCE = (
    f"{ACT} s.45: contracts awarded in accordance with the framework, by a competitive "
    "selection process (s.46) or, where the framework sets out the terms and the way of "
    "selecting the supplier, without one"
)
OF_TENDER_SOURCE = (
    f"{ACT} s.46: the framework sets the competitive selection process and its "
    "timescales (s.54 minimum periods apply to competitive tendering procedures, not "
    "call-offs under a framework)"
)
OF_MEMBERSHIP_SOURCE = (
    f"{ACT} s.49(1): successive frameworks on substantially the same terms; new "
    "suppliers join when the framework is reopened (a new framework is awarded); "
    "s.49(4)-(5): existing suppliers may be awarded the next framework by reference to "
    "their earlier award or tender"
)
OF_REOPENING = ReopeningRules(
    first_within_years=3,
    then_every_years=5,
    max_total_years=8,
    single_supplier_max_years=4,
    source=(
        f"{ACT} s.49(2)(a): a framework is awarded at least once in the 3 years beginning "
        "with the award of the first, and at least once in each 5 years beginning with the "
        "award of the second; s.49(2)(b): each framework expires on the award of the next; "
        "s.49(2)(c): the last expires by the end of 8 years from the first award; s.49(6): "
        "a framework with one supplier ends within 4 years"
    ),
)
LIGHT_TOUCH_TENDER_SOURCE = (
    f"{ACT} s.54: the minimum tendering periods do not apply to light touch contracts; "
    "the scheme's rules set reasonable timescales (s.54(1): time to prepare tenders)"
)
LIGHT_TOUCH_NARROWING_SOURCE = (
    f"{ACT} s.20: the authority designs the competitive flexible procedure (set out in "
    "the tender notice or documents), with the light touch freedoms; tiered call-offs "
    "and age/distance screening apply only where the scheme published them"
)

PA2023_DYNAMIC_MARKET = Regime(
    code=RegimeCode.PA2023_DYNAMIC_MARKET,
    title="Procurement Act 2023 dynamic market",
    supported=True,
    statutory_min_tender_days=10,
    urgent_shortening_allowed=False,
    tender_period_source=DM_TENDER_SOURCE,
    application_evaluation_working_days=10,
    application_evaluation_max_working_days=15,
    evaluation_source=DM_EVALUATION_SOURCE,
    standstill_days=8,
    standstill_mandatory=False,
    standstill_source=ACT_STANDSTILL_SOURCE,
    award_notice_days=30,
    award_notice_quarterly_grouping=False,
    award_notice_source=CONTRACT_DETAILS_SOURCE,
    may_tier=False,
    may_screen=False,
    invitation_source=DM_CALL_OFF_SOURCE,
    transition_source=COMMENCEMENT_SOURCE,
    earliest_establishment=PA2023_GO_LIVE,
    standstill_working_days=True,
    call_off_procedures=(CallOffProcedure.COMPETITIVE_FLEXIBLE_PROCEDURE,),
    call_off_source=DM_CALL_OFF_SOURCE,
    joins_at_any_time=True,
    membership_source=DM_MEMBERSHIP_SOURCE,
)

PA2023_OPEN_FRAMEWORK = Regime(
    code=RegimeCode.PA2023_OPEN_FRAMEWORK,
    title="Procurement Act 2023 open framework",
    supported=True,
    statutory_min_tender_days=None,
    urgent_shortening_allowed=True,
    tender_period_source=OF_TENDER_SOURCE,
    application_evaluation_working_days=10,
    application_evaluation_max_working_days=15,
    evaluation_source=(
        f"{ACT} s.49: applications at a reopening are assessed for the award of the "
        "next framework; the framework's rules adopt 10 working days, 15 where justified"
    ),
    standstill_days=8,
    standstill_mandatory=False,
    standstill_source=ACT_STANDSTILL_SOURCE,
    award_notice_days=30,
    award_notice_quarterly_grouping=False,
    award_notice_source=CONTRACT_DETAILS_SOURCE,
    may_tier=False,
    may_screen=False,
    invitation_source=OF_CALL_OFF_SOURCE,
    transition_source=COMMENCEMENT_SOURCE,
    earliest_establishment=PA2023_GO_LIVE,
    standstill_working_days=True,
    call_off_procedures=(
        CallOffProcedure.COMPETITIVE_SELECTION_PROCESS,
        CallOffProcedure.FRAMEWORK_DIRECT_AWARD,
    ),
    call_off_source=OF_CALL_OFF_SOURCE,
    joins_at_any_time=False,
    membership_source=OF_MEMBERSHIP_SOURCE,
    reopening=OF_REOPENING,
)


def _light_touch(base: Regime) -> Regime:
    """The Act regime for light touch contracts: the freedoms the Act gives them."""
    return replace(
        base,
        title=f"{base.title}, light touch contracts",
        light_touch=True,
        statutory_min_tender_days=None,
        urgent_shortening_allowed=True,
        tender_period_source=LIGHT_TOUCH_TENDER_SOURCE,
        award_notice_days=120,
        award_notice_source=LIGHT_TOUCH_CONTRACT_DETAILS_SOURCE,
        may_tier=True,
        may_screen=True,
        invitation_source=LIGHT_TOUCH_NARROWING_SOURCE,
    )


# A Procurement Act scheme for light touch services (Scheme.light_touch) runs under the
# light touch variant of its regime; PCR 2015 has its own light-touch regime code.
LIGHT_TOUCH_VARIANTS: Mapping[RegimeCode, Regime] = MappingProxyType(
    {
        RegimeCode.PA2023_DYNAMIC_MARKET: _light_touch(PA2023_DYNAMIC_MARKET),
        RegimeCode.PA2023_OPEN_FRAMEWORK: _light_touch(PA2023_OPEN_FRAMEWORK),
    }
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
            light_touch=True,
            new_schemes_before=PA2023_GO_LIVE,
            long_stop=PCR_DPS_LONG_STOP,
            transition_source=TRANSITION_SOURCE,
        ),
        RegimeCode.PA2023_DYNAMIC_MARKET: PA2023_DYNAMIC_MARKET,
        RegimeCode.PA2023_OPEN_FRAMEWORK: PA2023_OPEN_FRAMEWORK,
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


def regime_rules_for(code: RegimeCode | str, *, light_touch: bool = False) -> Regime:
    """The rules a scheme of ``code`` runs under; its light touch variant if it has one
    and the scheme is for light touch services."""
    regime = regime_for(code)
    if light_touch:
        variant = LIGHT_TOUCH_VARIANTS.get(regime.code)
        _require(
            variant is not None,
            "light_touch",
            Rule.MISMATCH,
            f"{code} has no light touch variant"
            + (" (use pcr2015_light_touch)" if not regime.under_act else ""),
        )
        assert variant is not None
        return variant
    return regime
