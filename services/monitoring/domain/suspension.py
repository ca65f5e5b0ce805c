"""Suspension recommendations: raised by the rules (failing inspection and open
safeguarding alert) or by an officer by hand; the provider register decides.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from services.monitoring.domain._records import _check_free_text, _Id, _Record, _require_aware
from services.monitoring.domain.alerts import Alert
from services.monitoring.domain.default_rules import (
    SAFEGUARDING_RULE_IDS,
    SOURCE_OFSTED,
    SOURCE_STANDARDS,
)
from services.monitoring.domain.evidence import FAILING_JUDGEMENTS, OfstedInspection
from shared.errors import DomainError


class SuspensionStatus(StrEnum):
    OPEN = "open"  # awaiting the provider register's decision
    CLOSED = "closed"


class SuspensionRecommendation(_Record):
    """Monitoring's recommendation that a provider be suspended from the register."""

    recommendation_id: _Id
    provider_id: _Id
    reasons: tuple[str, ...] = Field(min_length=1)
    evidence_refs: tuple[str, ...] = ()
    alert_ids: tuple[str, ...] = ()
    recommended_at: datetime
    status: SuspensionStatus = SuspensionStatus.OPEN
    closed_at: datetime | None = None
    decision: str | None = None
    raised_by: str | None = None  # an officer raised it by hand; None: the rules did
    grounds: tuple[str, ...] = ()

    def close(self, decision: str, now: datetime) -> SuspensionRecommendation:
        """Record the register's decision (e.g. "suspended", "not suspended")."""
        _require_aware("now", now)
        if self.status is SuspensionStatus.CLOSED:
            raise DomainError("status", "the recommendation is already closed")
        if not decision.strip():
            raise DomainError("decision", "closing a recommendation needs a decision")
        return self.model_copy(
            update={"status": SuspensionStatus.CLOSED, "closed_at": now, "decision": decision}
        )


@dataclass(frozen=True)
class SuspensionGround:
    """A ground on which a monitoring officer may recommend suspension by hand."""

    code: str
    label: str
    source: str  # the law, guidance or contract term the ground rests on


# Grounds an officer may cite when recommending suspension by hand. The commissioner
# still decides (provider_registry); these only say why monitoring thinks it should.
SUSPENSION_GROUNDS: dict[str, SuspensionGround] = {
    g.code: g
    for g in (
        SuspensionGround(
            "safeguarding",
            "Safeguarding concern",
            "Keeping children safe in education (DfE statutory guidance); Education Act "
            "2002 s.175 and s.157 with the Education (Independent School Standards) "
            "Regulations 2014 Sch. 1 Part 3 para 7 (the school's safeguarding duty).",
        ),
        SuspensionGround(
            "inspection",
            "Inspection outcome",
            SOURCE_OFSTED + " " + SOURCE_STANDARDS,
        ),
        SuspensionGround(
            "exclusion",
            "A ground for excluding the provider has arisen",
            "Public Contracts Regulations 2015 reg 57 (mandatory and discretionary "
            "exclusion grounds), which a DPS member must go on meeting (reg 34(25)).",
        ),
        SuspensionGround(
            "performance",
            "Significant or persistent deficiencies in performing the placement contract",
            "Public Contracts Regulations 2015 reg 57(8)(g); the placement contract's "
            "terms on serious or persistent breach.",
        ),
    )
}
SUSPENSION_REASON_MAX_LENGTH = 2000


def recommend_suspension_by_hand(
    provider_id: str,
    *,
    grounds: Iterable[str],
    reason: str,
    raised_by: str,
    existing: Iterable[SuspensionRecommendation],
    now: datetime,
    recommendation_id: str,
) -> SuspensionRecommendation:
    """A monitoring officer's own recommendation, citing grounds and saying why.

    Like the rules' one, at most one open recommendation per provider: a second would
    ask the commissioner the same question twice (409 at the API).
    """
    _require_aware("now", now)
    codes = list(dict.fromkeys(grounds))
    if not codes:
        raise DomainError("grounds", "choose at least one ground")
    unknown = [c for c in codes if c not in SUSPENSION_GROUNDS]
    if unknown:
        raise DomainError("grounds", f"unknown ground {unknown[0]!r}")
    try:
        text = _check_free_text(reason.strip(), SUSPENSION_REASON_MAX_LENGTH)
    except ValueError as exc:
        raise DomainError("reason", str(exc)) from None
    if not text:
        raise DomainError("reason", "say why suspension is recommended")
    if any(r.provider_id == provider_id and r.status is SuspensionStatus.OPEN for r in existing):
        raise DomainError("status", "an open suspension recommendation already awaits a decision")
    return SuspensionRecommendation(
        recommendation_id=recommendation_id,
        provider_id=provider_id,
        reasons=(*(f"Grounds: {SUSPENSION_GROUNDS[c].label}" for c in codes), text),
        recommended_at=now,
        raised_by=raised_by,
        grounds=tuple(codes),
    )


def latest_inspection(
    provider_id: str, inspections: Iterable[OfstedInspection]
) -> OfstedInspection | None:
    """The provider's most recent inspection (by inspection date)."""
    own = [i for i in inspections if i.provider_id == provider_id]
    return max(own, key=lambda i: (i.inspected_on, i.published_on or i.inspected_on), default=None)


def _failing_reason(inspection: OfstedInspection) -> str:
    inspected = f"(inspected {inspection.inspected_on.isoformat()})"
    if inspection.judgement in FAILING_JUDGEMENTS:
        reason = f"Latest Ofsted judgement is {inspection.judgement} {inspected}"
        if inspection.safeguarding_met is False:
            reason += "; safeguarding not met"
        return reason
    return f"Latest inspection found safeguarding not met {inspected}"


def recommend_suspension(
    provider_id: str,
    *,
    inspections: Iterable[OfstedInspection],
    open_alerts: Iterable[Alert],
    existing: Iterable[SuspensionRecommendation],
    now: datetime,
    recommendation_id: str,
    safeguarding_rule_ids: Collection[str] = SAFEGUARDING_RULE_IDS,
) -> SuspensionRecommendation | None:
    """Recommend suspension when BOTH hold for the provider:

    1. its latest inspection is failing (inadequate, report-card urgent improvement,
       Independent School Standards not met, or safeguarding not met: the shared
       `shared.contracts.inspections.is_failing`), and
    2. it has at least one unresolved alert from a safeguarding rule (an inspection with
       safeguarding not met raises one itself, so it is recommended on its own).

    One recommendation per provider while it is open; None otherwise.
    """
    _require_aware("now", now)
    if any(r.provider_id == provider_id and r.status is SuspensionStatus.OPEN for r in existing):
        return None
    inspection = latest_inspection(provider_id, inspections)
    if inspection is None or not inspection.failing:
        return None
    safeguarding = sorted(
        (
            a
            for a in open_alerts
            if a.provider_id == provider_id
            and a.is_unresolved
            and a.rule_id in safeguarding_rule_ids
        ),
        key=lambda a: (a.raised_at, a.alert_id),
    )
    if not safeguarding:
        return None
    reasons = [
        _failing_reason(inspection),
        *(
            f"Unresolved safeguarding alert {a.alert_id} raised {a.raised_at.date().isoformat()}"
            for a in safeguarding
        ),
    ]
    refs = [inspection.evidence_id, *(ref for a in safeguarding for ref in a.evidence_refs)]
    return SuspensionRecommendation(
        recommendation_id=recommendation_id,
        provider_id=provider_id,
        reasons=tuple(reasons),
        evidence_refs=tuple(dict.fromkeys(refs)),
        alert_ids=tuple(a.alert_id for a in safeguarding),
        recommended_at=now,
    )
