"""A failed safeguarding or standards judgement always alerts (issue 12, part 1).

Every combination of (report card / 1-4 grade / ISS only / none) x safeguarding
met/not met/unknown x standards met/not met/unknown goes through monitoring's own path:
the shared reading (`inspection_evidence`), the default rules, alerts, and the
suspension recommendation.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import (
    DEFAULT_RULES,
    DomainError,
    Severity,
    SuspensionRecommendation,
    evaluate_rules,
    inspection_evidence,
    raise_alerts,
    recommend_suspension,
)
from shared.contracts.providers_v1 import InspectionSummary
from shared.contracts.providers_v1 import OfstedJudgement as J
from shared.contracts.providers_v1 import ReportCardArea as Area
from shared.contracts.providers_v1 import ReportCardGrade as G

from .factories import NOW, inspection

KINDS = {
    "report_card": {"report_card": {Area.INCLUSION: G.EXPECTED_STANDARD}},
    "four_point": {"overall": J.GOOD},
    "none": {},  # with standards met/not met: an "ISS only" inspection
}
MET = (True, False, None)
SG, ISS, BAD = (
    "inspection-safeguarding-not-met",
    "independent-school-standards-not-met",
    "ofsted-inadequate",
)
C, W = Severity.CRITICAL, Severity.WARNING

# (kind, safeguarding_met, standards_met) -> (rules fired, severity, suspension recommended)
GRADED = {
    (True, True): ((), None, False),
    (True, False): ((ISS,), W, False),
    (True, None): ((), None, False),
    (False, True): ((SG,), C, True),
    (False, False): ((SG, ISS), C, True),
    (False, None): ((SG,), C, True),
    (None, True): ((), None, False),
    (None, False): ((ISS,), W, False),
    (None, None): ((), None, False),
}
TABLE: dict[tuple[str, bool | None, bool | None], tuple[tuple[str, ...], Severity | None, bool]]
TABLE = {("report_card", *key): value for key, value in GRADED.items()}
TABLE |= {("four_point", *key): value for key, value in GRADED.items()}
TABLE |= {
    ("none", True, True): ((), None, False),
    ("none", True, False): ((BAD, ISS), C, False),  # ISS only, not met: as before, critical
    ("none", True, None): ((), None, False),
    ("none", False, True): ((SG,), C, True),
    ("none", False, False): ((BAD, SG, ISS), C, True),
    ("none", False, None): ((SG,), C, True),  # safeguarding alone: today nothing at all
    ("none", None, True): ((), None, False),
    ("none", None, False): ((BAD, ISS), C, False),
    ("none", None, None): ((), None, False),  # records nothing: no evidence
}


def summary(
    graded: dict[str, object], sg: bool | None, standards: bool | None
) -> InspectionSummary:
    return InspectionSummary(
        inspected_on=date(2026, 1, 5),
        safeguarding_met=sg,
        standards_met=standards,
        **graded,  # type: ignore[arg-type]
    )


def outcome(
    graded: dict[str, object], sg: bool | None, standards: bool | None
) -> tuple[set[str], Severity | None, SuspensionRecommendation | None]:
    evidence = inspection_evidence("ev-1", "P1", summary(graded, sg, standards))
    if evidence is None:
        return set(), None, None
    matches = evaluate_rules(DEFAULT_RULES, evidence)
    alerts = raise_alerts(matches, open_alerts=[], now=NOW, new_alert_id=lambda m: m.rule_id)
    recommendation = recommend_suspension(
        "P1",
        inspections=[evidence],
        open_alerts=alerts,
        existing=[],
        now=NOW,
        recommendation_id="R1",
    )
    severities = [a.severity for a in alerts]
    worst = max(severities, key=list(Severity).index, default=None)
    return {a.rule_id for a in alerts}, worst, recommendation


def test_the_table_covers_every_combination() -> None:
    assert set(TABLE) == {(k, s, t) for k in KINDS for s in MET for t in MET}


@pytest.mark.parametrize(("case", "expected"), TABLE.items(), ids=str)
def test_every_combination_alerts_as_the_table_says(
    case: tuple[str, bool | None, bool | None],
    expected: tuple[tuple[str, ...], Severity | None, bool],
) -> None:
    kind, sg, standards = case
    rules, severity, recommended = outcome(KINDS[kind], sg, standards)
    assert (rules, severity, recommended is not None) == (
        set(expected[0]),
        expected[1],
        expected[2],
    )


def test_safeguarding_alone_is_evidence_with_the_shared_judgement() -> None:
    evidence = inspection_evidence("ev-1", "P1", summary({}, False, None))
    assert evidence is not None
    assert (evidence.framework, evidence.judgement) == (None, None)
    assert evidence.equivalent_judgement == "inadequate" and evidence.failing
    _, _, recommendation = outcome({}, False, None)
    assert recommendation is not None
    assert recommendation.reasons[0] == (
        "Latest inspection found safeguarding not met (inspected 2026-01-05)"
    )
    assert recommendation.alert_ids == (SG,)


@given(
    st.one_of(
        st.builds(lambda j: {"overall": j}, st.sampled_from(list(J))),
        st.builds(
            lambda grades: {"report_card": grades},
            st.dictionaries(st.sampled_from(list(Area)), st.sampled_from(list(G)), min_size=1),
        ),
        st.just({}),
    ),
    st.sampled_from(MET),
    st.sampled_from(MET),
)
def test_whatever_the_grades(
    graded: dict[str, object], sg: bool | None, standards: bool | None
) -> None:
    rules, severity, recommended = outcome(graded, sg, standards)
    if sg is False:
        assert SG in rules and severity is C and recommended is not None
    if standards is False:
        assert ISS in rules and severity in (W, C)


def test_safeguarding_rules_carry_their_source() -> None:
    sources = {r.rule_id: r.source for r in DEFAULT_RULES}
    assert sources[SG] is not None and "Ofsted" in sources[SG]
    assert sources[ISS] is not None and "SI 2014/3283" in sources[ISS]


def test_an_inspection_needs_a_judgement_or_safeguarding_and_consistent_standards() -> None:
    with pytest.raises(DomainError, match="judgement or safeguarding"):
        inspection(framework=None, judgement=None)
    with pytest.raises(DomainError, match="come together"):
        inspection(framework=None, safeguarding_met=False)
    with pytest.raises(DomainError, match="standards_met"):
        inspection(framework="independent_school_standards", judgement="met", standards_met=False)
