"""The rules monitoring starts with, and the law or guidance each carries out."""

from __future__ import annotations

from services.monitoring.domain.evidence import EvidenceKind
from services.monitoring.domain.rules import AlertRule
from shared.contracts.quality_v1 import AlertTarget, Severity


def _default_rule(
    rule_id: str,
    title: str,
    watches: EvidenceKind,
    condition: str,
    severity: Severity,
    target: AlertTarget,
    cause: str,
    source: str | None = None,
) -> AlertRule:
    return AlertRule(
        rule_id=rule_id,
        title=title,
        watches=watches,
        condition=condition,
        severity=severity,
        target=target,
        cause_template=cause,
        source=source,
    )


_K = EvidenceKind
_S = Severity

SOURCE_OFSTED = (
    "Ofsted, School inspection handbook (four-point judgements, to 2025) and report card "
    "grades (renewed education inspection framework, November 2025)."
)
SOURCE_SAFEGUARDING = (
    "Ofsted, School inspection handbook (September 2023/2024): ineffective safeguarding "
    "makes leadership and management, and overall effectiveness, inadequate; Ofsted "
    "renewed education inspection framework (November 2025): safeguarding met / not met, "
    "not met places the school in a category of concern."
)
SOURCE_STANDARDS = (
    "Education (Independent School Standards) Regulations 2014 (SI 2014/3283), enforced "
    "under the Education and Skills Act 2008 ss.114-116; Ofsted, Non-association "
    "independent school inspection handbook (standards met / not met)."
)
SOURCE_REVIEW_PERIOD = (
    "Children and Families Act 2014 s.44(1): the EHC plan is reviewed at least every 12 "
    "months, counted from the review last held (or the plan first made)."
)
SOURCE_APPLICATION_CLOCK = (
    "Public Contracts Regulations 2015 reg 34(15)-(16): a request to participate is "
    "evaluated within 10 working days, extendable to 15 with a recorded reason."
)
SOURCE_SELF_DECLARATION = (
    "Public Contracts Regulations 2015 reg 34(25): a member may be asked at any time for a "
    "renewed self-declaration, to be given within 5 working days."
)
SOURCE_NOTICES = (
    "Public Contracts Regulations 2015 reg 50 (contract award notices within 30 days, or "
    "grouped quarterly for DPS call-offs) and reg 34(27)-(28) (change of the DPS period); "
    "Procurement Act 2023 ss.21, 39, 44, 50, 53, 55, 75 and 80 with the Procurement "
    "Regulations 2024 (tender, dynamic market, transparency, contract award, contract "
    "details, procurement termination, contract change and contract termination notices). "
    "Each alert's evidence names the notice and the rule that set its due date."
)
SOURCE_PHASE_TRANSFER = (
    "SEND Regulations 2014 reg 18: on a phase transfer the school is named in the EHC plan "
    "by 15 February (31 March for a transfer to post-16 education)."
)
_PROVIDER, _PLACEMENT, _SCHEME = AlertTarget.PROVIDER, AlertTarget.PLACEMENT, AlertTarget.SCHEME

DEFAULT_RULES: tuple[AlertRule, ...] = (
    # Ofsted: the "requires improvement" and "inadequate" equivalents in every framework.
    # The cause is the inspection, so a re-inspection at the same grade alerts again.
    _default_rule(
        "ofsted-requires-improvement",
        "Ofsted judgement requires improvement",
        _K.OFSTED_INSPECTION,
        'judgement in ("requires_improvement", "needs_attention")',
        _S.WARNING,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_OFSTED,
    ),
    _default_rule(
        "ofsted-inadequate",
        "Ofsted judgement inadequate",
        _K.OFSTED_INSPECTION,
        'judgement in ("inadequate", "urgent_improvement", "not_met")',
        _S.CRITICAL,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_OFSTED,
    ),
    # Safeguarding not met is critical whatever the other grades, and (being failing and
    # a safeguarding rule) brings a suspension recommendation with it.
    _default_rule(
        "inspection-safeguarding-not-met",
        "Inspection: safeguarding not met",
        _K.OFSTED_INSPECTION,
        "safeguarding_met == False",
        _S.CRITICAL,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_SAFEGUARDING,
    ),
    # Independent School Standards not met: at least a warning whatever the other grades
    # (critical as well when the standards are the inspection's only judgement).
    _default_rule(
        "independent-school-standards-not-met",
        "Inspection: Independent School Standards not met",
        _K.OFSTED_INSPECTION,
        "standards_met == False",
        _S.WARNING,
        _PROVIDER,
        "inspection:{inspected_on}",
        SOURCE_STANDARDS,
    ),
    # Every safeguarding incident is its own cause, whatever its severity.
    _default_rule(
        "safeguarding-incident",
        "Safeguarding incident reported",
        _K.INCIDENT,
        'category == "safeguarding"',
        _S.CRITICAL,
        _PROVIDER,
        "incident:{evidence_id}",
    ),
    # Attendance bands are disjoint so one return raises one attendance alert; the cause
    # is not per term, so low attendance term after term stays one open alert.
    _default_rule(
        "kpi-attendance-below-90",
        "Attendance below 90%",
        _K.KPI_RETURN,
        "80 <= attendance_pct < 90",
        _S.WARNING,
        _PLACEMENT,
        "attendance-below-90",
    ),
    _default_rule(
        "kpi-attendance-below-80",
        "Attendance below 80%",
        _K.KPI_RETURN,
        "attendance_pct < 80",
        _S.CRITICAL,
        _PLACEMENT,
        "attendance-below-80",
    ),
    _default_rule(
        "kpi-outcomes-not-met-twice",
        "EHC outcomes not met in two consecutive KPI returns",
        _K.KPI_RETURN,
        'outcomes_progress == "not_met" and consecutive_not_met >= 2',
        _S.WARNING,
        _PLACEMENT,
        "outcomes-not-met",
    ),
    _default_rule(
        "review-overdue",
        "Annual review overdue",
        _K.REVIEW_OVERDUE,
        "days_overdue >= 1",
        _S.WARNING,
        _PLACEMENT,
        "review:{due_on}",
    ),
    _default_rule(
        "document-expired",
        "Compliance document expired",
        _K.DOCUMENT_EXPIRY,
        "expired",
        _S.WARNING,
        _PROVIDER,
        "document:{document_type}:{expires_on}",
    ),
    _default_rule(
        "uplift-above-cap",
        "Fee uplift requested above the cap",
        _K.UPLIFT_REQUESTED,
        "excess_pct > 0",
        _S.INFO,
        _PLACEMENT,
        "uplift:{requested_on}",
    ),
    _default_rule(
        "kpi-return-missing",
        "KPI return not received for the term",
        _K.KPI_RETURN_MISSING,
        "True",
        _S.WARNING,
        _PLACEMENT,
        "kpi-missing:{term}",
    ),
    # Decision on procurement.competition.no_suitable_bid: a round that sends the
    # search to a lower tier is routine (no alert); a competition that ends with no tier
    # left ("escalate") leaves a child's placement need unmet on the DPS, which a
    # monitoring officer must act on. The target is the placement need the competition
    # was run for (procurement's `need_ref`); block-contract competitions have none and
    # raise nothing here (procurement alerts commissioners on those itself).
    _default_rule(
        "competition-no-suitable-bid",
        "Call-off competition ended with no suitable bid",
        _K.COMPETITION_WITHOUT_SUITABLE_BID,
        'next_action == "escalate"',
        _S.WARNING,
        _PLACEMENT,
        "no-suitable-bid:{competition_id}",
    ),
)

# Statutory clocks the procurement and placements services run: each breach reaches a
# monitoring officer (issue 12: notices, reviews, self-declarations, phase transfers).
STATUTORY_CLOCK_RULES: tuple[AlertRule, ...] = (
    _default_rule(
        "application-decision-overdue",
        "DPS application not decided within its statutory period",
        _K.APPLICATION_OVERDUE,
        "days_overdue >= 0",
        _S.WARNING,
        _PROVIDER,
        "application:{application_id}",
        SOURCE_APPLICATION_CLOCK,
    ),
    _default_rule(
        "review-date-beyond-statutory-limit",
        "Annual review set later than 12 months after the last review",
        _K.REVIEW_SCHEDULED,
        "beyond_statutory_limit",
        _S.WARNING,
        _PLACEMENT,
        "review-limit:{due_on}",
        SOURCE_REVIEW_PERIOD,
    ),
    _default_rule(
        "self-declaration-overdue",
        "Renewed self-declaration not given within 5 working days",
        _K.SELF_DECLARATION_OVERDUE,
        "True",
        _S.WARNING,
        _PROVIDER,
        "self-declaration:{request_id}",
        SOURCE_SELF_DECLARATION,
    ),
    _default_rule(
        "notice-overdue",
        "Statutory notice not published by its due date",
        _K.NOTICE_OVERDUE,
        "True",
        _S.WARNING,
        _SCHEME,
        "notice:{notice_id}",
        SOURCE_NOTICES,
    ),
    # A child may start the school year without a school named: critical.
    _default_rule(
        "phase-transfer-deadline-at-risk",
        "Call-off cannot finish before the school must be named (phase transfer)",
        _K.CALL_OFF_DEADLINE_AT_RISK,
        "days_late > 0",
        _S.CRITICAL,
        _PLACEMENT,
        "phase-transfer:{competition_id}",
        SOURCE_PHASE_TRANSFER,
    ),
)
DEFAULT_RULES = DEFAULT_RULES + STATUTORY_CLOCK_RULES

# Rules whose open alerts count as "an open safeguarding alert" for suspension.
SAFEGUARDING_RULE_IDS: frozenset[str] = frozenset(
    {"safeguarding-incident", "inspection-safeguarding-not-met"}
)
