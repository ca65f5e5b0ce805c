"""The one reading of an inspection (shared.contracts.inspections), every combination."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.inspections import InspectionFramework as F
from shared.contracts.inspections import StandardsJudgement, read_inspection
from shared.contracts.providers_v1 import InspectionSummary
from shared.contracts.providers_v1 import OfstedJudgement as J
from shared.contracts.providers_v1 import ReportCardArea as Area
from shared.contracts.providers_v1 import ReportCardGrade as G

KINDS = {
    "report_card": {"report_card": {Area.INCLUSION: G.EXPECTED_STANDARD}},
    "four_point": {"overall": J.GOOD},
    "none": {},  # with standards met/not met this is an "ISS only" inspection
}
MET = (True, False, None)


def summary(kind: str, safeguarding: bool | None, standards: bool | None) -> InspectionSummary:
    return InspectionSummary(
        inspected_on=date(2026, 1, 5),
        safeguarding_met=safeguarding,
        standards_met=standards,
        **KINDS[kind],  # type: ignore[arg-type]
    )


# (kind, safeguarding_met, standards_met) -> (headline framework, headline grade,
# four-point equivalent, failing)
RC, FP, ISS = F.REPORT_CARD, F.FOUR_POINT, F.INDEPENDENT_SCHOOL_STANDARDS
EXP, NM, M = G.EXPECTED_STANDARD, StandardsJudgement.NOT_MET, StandardsJudgement.MET
RI, BAD = J.REQUIRES_IMPROVEMENT, J.INADEQUATE
TABLE = {
    ("report_card", True, True): (RC, EXP, J.GOOD, False),
    ("report_card", True, False): (RC, EXP, RI, False),
    ("report_card", True, None): (RC, EXP, J.GOOD, False),
    ("report_card", False, True): (RC, EXP, BAD, True),
    ("report_card", False, False): (RC, EXP, BAD, True),
    ("report_card", False, None): (RC, EXP, BAD, True),
    ("report_card", None, True): (RC, EXP, J.GOOD, False),
    ("report_card", None, False): (RC, EXP, RI, False),
    ("report_card", None, None): (RC, EXP, J.GOOD, False),
    ("four_point", True, True): (FP, J.GOOD, J.GOOD, False),
    ("four_point", True, False): (FP, J.GOOD, RI, False),
    ("four_point", True, None): (FP, J.GOOD, J.GOOD, False),
    ("four_point", False, True): (FP, J.GOOD, BAD, True),
    ("four_point", False, False): (FP, J.GOOD, BAD, True),
    ("four_point", False, None): (FP, J.GOOD, BAD, True),
    ("four_point", None, True): (FP, J.GOOD, J.GOOD, False),
    ("four_point", None, False): (FP, J.GOOD, RI, False),
    ("four_point", None, None): (FP, J.GOOD, J.GOOD, False),
    ("none", True, True): (ISS, M, None, False),
    ("none", True, False): (ISS, NM, RI, True),
    ("none", True, None): (None, None, None, False),
    ("none", False, True): (ISS, M, BAD, True),
    ("none", False, False): (ISS, NM, BAD, True),
    ("none", False, None): (None, None, BAD, True),
    ("none", None, True): (ISS, M, None, False),
    ("none", None, False): (ISS, NM, RI, True),
    ("none", None, None): (None, None, None, False),
}


def test_the_table_covers_every_combination() -> None:
    assert set(TABLE) == {(k, s, t) for k in KINDS for s in MET for t in MET}


@pytest.mark.parametrize(("case", "expected"), TABLE.items(), ids=str)
def test_every_combination_reads_as_the_table_says(
    case: tuple[str, bool | None, bool | None], expected: tuple[object, ...]
) -> None:
    reading = read_inspection(summary(*case))
    assert (reading.framework, reading.grade, reading.equivalent, reading.failing) == expected
    assert reading.records_anything == (case != ("none", None, None))


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
def test_safeguarding_and_standards_override_any_grade(
    graded: dict[str, object], safeguarding: bool | None, standards: bool | None
) -> None:
    inspection = InspectionSummary(
        inspected_on=date(2026, 1, 5),
        safeguarding_met=safeguarding,
        standards_met=standards,
        **graded,  # type: ignore[arg-type]
    )
    reading = read_inspection(inspection)
    if safeguarding is False:
        assert reading.equivalent is J.INADEQUATE and reading.failing
    if standards is False:
        assert reading.equivalent in (J.REQUIRES_IMPROVEMENT, J.INADEQUATE)
    if reading.grade in (J.INADEQUATE, G.URGENT_IMPROVEMENT):
        assert reading.equivalent is J.INADEQUATE and reading.failing
