"""Phase transfers (SEND Regulations 2014 reg 18): whether a call-off can finish in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from services.procurement.domain.awards import standstill_decision, standstill_end
from services.procurement.domain.specs import CompetitionKind
from shared.working_days import (
    add_working_days,
    london_date,
)

if TYPE_CHECKING:
    from services.procurement.domain.schemes import Scheme


# ------------------------------------------------- phase transfers (SEND Regs 2014 reg 18)

# A child transferring between phases must have the new school named in the EHC plan by
# a statutory day (15 February; 31 March for post-16: SEND Regulations 2014 reg 18, sent
# by placements as ``phase_transfer_deadline``). A call-off for such a child must finish
# by then: tender period, then evaluation and award approval, then standstill where it
# applies. Evaluation is not timed by law: this is the council's planning allowance
# (data, change it here) and the choice is recorded in docs/law/children-data.md.
CALL_OFF_EVALUATION_WORKING_DAYS = 5
CALL_OFF_EVALUATION_SOURCE = (
    "Planning allowance, not law: 5 working days from the tender deadline to score, rank "
    "and approve an individual call-off (docs/law/children-data.md)"
)


@dataclass(frozen=True, slots=True)
class TimetableCheck:
    """Whether a call-off can be decided by a statutory day, and why not."""

    statutory_deadline: date
    expected_completion: date
    standstill_days: int
    # Procurement Act 2023 s.51(2): the standstill counts working days; PCR 2015 reg 87
    # counts calendar days (Regime.standstill_working_days).
    standstill_working_days: bool = False

    @property
    def at_risk(self) -> bool:
        return self.expected_completion > self.statutory_deadline

    @property
    def reason(self) -> str:
        unit = "working days'" if self.standstill_working_days else "days'"
        standstill = (
            f", then {self.standstill_days} {unit} standstill" if self.standstill_days else ""
        )
        return (
            f"tender deadline, {CALL_OFF_EVALUATION_WORKING_DAYS} working days' evaluation"
            f"{standstill}: decided {self.expected_completion.isoformat()}, after the "
            f"{self.statutory_deadline.isoformat()} the school must be named by"
        )


def standstill_applies(scheme: Scheme) -> bool:
    """Standstill before an individual placement's contract (see ``standstill_decision``)."""
    individual = standstill_decision(scheme, CompetitionKind.INDIVIDUAL, Decimal(0), date.min)
    return individual.applies


def check_call_off_timetable(
    scheme: Scheme, tender_deadline_at: datetime, statutory_deadline: date
) -> TimetableCheck:
    """Can a call-off closing at ``tender_deadline_at`` finish by ``statutory_deadline``?

    Finished = evaluated and approved (working days, England and Wales calendar) and, where
    standstill applies, out of standstill: under the Procurement Act 2023 the 8 working
    days beginning with the day the contract award notice is published (s.51(2); the
    notice is taken to go on the day of the decision); under PCR 2015 the calendar days
    after it (reg 87), counted as before.
    """
    evaluated = add_working_days(london_date(tender_deadline_at), CALL_OFF_EVALUATION_WORKING_DAYS)
    rules = scheme.regime_rules
    if not standstill_applies(scheme):
        return TimetableCheck(statutory_deadline, evaluated, 0, rules.standstill_working_days)
    days = rules.standstill_days
    if rules.standstill_working_days:
        # standstill_end is the exclusive instant (00:00 after the last day): its eve
        ends = london_date(standstill_end(evaluated, days, working_days=True)) - timedelta(days=1)
        return TimetableCheck(statutory_deadline, ends, days, standstill_working_days=True)
    return TimetableCheck(statutory_deadline, evaluated + timedelta(days=days), days)
