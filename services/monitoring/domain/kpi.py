"""KPI returns over time: outcome streaks, placements owing a return, returns missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from services.monitoring.domain._records import _Id, _Record, _require_aware
from services.monitoring.domain.evidence import KpiReturn, KpiReturnMissing
from services.monitoring.domain.terms import term_sort_key, term_window
from shared.contracts.common import NeedType
from shared.contracts.quality_v1 import OutcomeProgress
from shared.errors import DomainError


def with_outcome_streak(current: KpiReturn, history: Iterable[KpiReturn]) -> KpiReturn:
    """`current` with `consecutive_not_met` computed from the placement's earlier returns.

    Counts `current` plus the unbroken run of "not met" returns before it, in term
    order. A term with no return neither breaks nor extends the run (the missing return
    raises its own alert); a resubmitted term counts once, latest submission wins.
    """
    if current.outcomes_progress is not OutcomeProgress.NOT_MET:
        return current.model_copy(update={"consecutive_not_met": 0})
    current_key = term_sort_key(current.term)
    by_term: dict[str, KpiReturn] = {}
    for earlier in history:
        if earlier.placement_id != current.placement_id:
            continue
        if term_sort_key(earlier.term) >= current_key:
            continue
        kept = by_term.get(earlier.term)
        if kept is None or earlier.submitted_on >= kept.submitted_on:
            by_term[earlier.term] = earlier
    streak = 1
    for term in sorted(by_term, key=term_sort_key, reverse=True):
        if by_term[term].outcomes_progress is not OutcomeProgress.NOT_MET:
            break
        streak += 1
    return current.model_copy(update={"consecutive_not_met": streak})


class PlacementRecord(_Record):
    """A placement as monitoring sees it (from placements.v1 events).

    `ends_on` is the last day of the placement (inclusive); None while it runs on.
    """

    placement_id: _Id
    provider_id: _Id
    primary_need: NeedType
    starts_on: date
    ends_on: date | None = None
    weekly_fee: Decimal = Field(ge=0)
    on_contract: bool = True

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise DomainError("ends_on", "must not be before starts_on")
        return self

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def active_during(self, first: date, last: date) -> bool:
        return self.starts_on <= last and (self.ends_on is None or self.ends_on >= first)


def missing_kpi_returns(
    placements: Iterable[PlacementRecord], returns: Iterable[KpiReturn], term: str
) -> list[KpiReturnMissing]:
    """Placements active at any time in the term's window with no KPI return for it.

    The evidence id is deterministic ("kpi-missing:<placement>:<term>") so running the
    check twice yields the same evidence.
    """
    first, last = term_window(term)
    returned = {r.placement_id for r in returns if r.term == term}
    return [
        KpiReturnMissing(
            evidence_id=f"kpi-missing:{p.placement_id}:{term}",
            provider_id=p.provider_id,
            placement_id=p.placement_id,
            term=term,
        )
        for p in sorted(placements, key=lambda p: p.placement_id)
        if p.active_during(first, last) and p.placement_id not in returned
    ]


class KpiReturnState(StrEnum):
    SUBMITTED = "submitted"
    DUE = "due"  # not in yet, the deadline still ahead
    OVERDUE = "overdue"  # not in, the deadline passed ("no KPI return" is raised)


@dataclass(frozen=True)
class KpiReturnOwed:
    """One placement's KPI return for one term, as the provider owes it."""

    placement_id: str
    term: str
    deadline: datetime
    state: KpiReturnState
    return_id: str | None = None


def kpi_returns_owed(
    placements: Iterable[PlacementRecord],
    returns: Iterable[KpiReturn],
    term: str,
    deadline: datetime,
    now: datetime,
) -> list[KpiReturnOwed]:
    """Every placement active in the term's window, with its return or what is owed."""
    _require_aware("now", now)
    first, last = term_window(term)
    returned = {r.placement_id: r.evidence_id for r in returns if r.term == term}
    late = KpiReturnState.OVERDUE if now >= deadline else KpiReturnState.DUE
    return [
        KpiReturnOwed(
            placement_id=p.placement_id,
            term=term,
            deadline=deadline,
            state=KpiReturnState.SUBMITTED if p.placement_id in returned else late,
            return_id=returned.get(p.placement_id),
        )
        for p in sorted(placements, key=lambda p: p.placement_id)
        if p.active_during(first, last)
    ]
