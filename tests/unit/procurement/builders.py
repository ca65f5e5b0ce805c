"""Small builders for procurement unit tests (a Kent-style two-lot NMISS scheme)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.procurement.domain import (
    ALL_DOCUMENTS,
    AwardCriteria,
    Bid,
    BidOffer,
    Category,
    CompetitionKind,
    CompetitionSpec,
    ComplianceDocument,
    DocumentKind,
    FeeBasis,
    FilterCriteria,
    GridPoint,
    Lot,
    Membership,
    ProviderSnapshot,
    QualityQuestion,
    QuestionAssessment,
    QuestionKind,
    RegimeCode,
    Scheme,
    SelectionQuestion,
    create_scheme,
    open_scheme,
)
from shared.contracts.common import Attendance, NeedType
from shared.working_days import LONDON

# Monday 2 March 2026, 10:00 London.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)
TODAY = NOW.date()
MAIDSTONE = GridPoint(576000, 155800)

ASD_DAY = Category("asd-day", "ASD day", frozenset({NeedType.ASD}), frozenset({Attendance.DAY}))
SEMH_RES = Category(
    "semh-res",
    "SEMH residential",
    frozenset({NeedType.SEMH}),
    frozenset({Attendance.RESIDENTIAL_38, Attendance.RESIDENTIAL_52}),
)
LOT2 = Lot("lot2", "Lot 2", Decimal(60), block_contracts_allowed=True)
LOT1 = Lot("lot1", "Lot 1", Decimal(30))

QUESTIONS = (
    SelectionQuestion("ofsted", "Latest inspection outcome", QuestionKind.PASS_FAIL),
    SelectionQuestion("curriculum", "Curriculum and outcomes", QuestionKind.SCORED, 5, 60),
    SelectionQuestion("staffing", "Staffing and training", QuestionKind.SCORED, 5, 40),
)


QUALITY = (
    QualityQuestion("fit", "How will you meet the child's needs?", 10, 70),
    QualityQuestion("transition", "Transition plan", 10, 30),
)


def scheme(**overrides: Any) -> Scheme:
    """An open scheme with two lots and two categories (PCR 2015 light-touch), imported:
    established before the Procurement Act 2023 went live, tiers and screening published."""
    fields: dict[str, Any] = {
        "scheme_id": "S1",
        "reference": "KCC-NMISS-DPS",
        "title": "NMISS placements DPS",
        "regime": RegimeCode.PCR2015_LIGHT_TOUCH,
        "term_start": date(2025, 2, 24),
        "term_end": date(2029, 2, 23),
        "categories": (ASD_DAY, SEMH_RES),
        "selection_questions": QUESTIONS,
        "lots": (LOT1, LOT2),
        "pass_mark": Decimal(30),
        "max_extension_end": date(2031, 2, 23),
        "established_on": date(2024, 11, 1),
        "imported": True,
        "narrowing_published": True,
        "award_criteria": AwardCriteria(60, 40, QUALITY),
    }
    fields.update(overrides)
    return open_scheme(create_scheme(Scheme(**fields)), TODAY)


def provider(pid: str = "P1", **overrides: Any) -> ProviderSnapshot:
    """An active provider serving ASD and SEMH, day and residential, ages 5-19, near Maidstone."""
    fields: dict[str, Any] = {
        "provider_id": pid,
        "active": True,
        "need_types": frozenset({NeedType.ASD, NeedType.SEMH}),
        "attendance": frozenset(Attendance),
        "age_low": 5,
        "age_high": 19,
        "location": GridPoint(MAIDSTONE.easting + 3000, MAIDSTONE.northing + 4000),  # 5 km
    }
    fields.update(overrides)
    return ProviderSnapshot(**fields)


def documents(expires_on: date = date(2027, 3, 31)) -> tuple[ComplianceDocument, ...]:
    return tuple(ComplianceDocument(kind, expires_on) for kind in sorted(ALL_DOCUMENTS))


def documents_without(kind: DocumentKind) -> tuple[ComplianceDocument, ...]:
    return tuple(d for d in documents() if d.kind is not kind)


def good_assessments(curriculum: int = 4, staffing: int = 4) -> dict[str, QuestionAssessment]:
    return {
        "ofsted": QuestionAssessment(passed=True),
        "curriculum": QuestionAssessment(score=Decimal(curriculum)),
        "staffing": QuestionAssessment(score=Decimal(staffing)),
    }


ANSWERS = {"ofsted": "Good, 2024", "curriculum": "Broad", "staffing": "Trained"}


def member(
    pid: str,
    lot: str | None = "lot2",
    category: str = "asd-day",
    **overrides: Any,
) -> Membership:
    fields: dict[str, Any] = {
        "scheme_id": "S1",
        "provider_id": pid,
        "category_code": category,
        "lot_code": lot,
        "quality_score": Decimal(70),
        "admitted_on": date(2025, 6, 1),
        "application_id": f"A-{pid}",
    }
    fields.update(overrides)
    return Membership(**fields)


def register(*pids: str, **overrides: Any) -> dict[str, ProviderSnapshot]:
    return {pid: provider(pid, **overrides) for pid in pids}


def docs_for(pids: Iterable[str]) -> dict[str, Sequence[ComplianceDocument]]:
    return {pid: documents() for pid in pids}


def spec(**overrides: Any) -> CompetitionSpec:
    """An individual ASD day placement for a 12-year-old within 30 km of Maidstone."""
    fields: dict[str, Any] = {
        "competition_id": "C1",
        "scheme_id": "S1",
        "category_code": "asd-day",
        "kind": CompetitionKind.INDIVIDUAL,
        "title": "Placement for KCC-EHC-000123",
        "filter": FilterCriteria(
            NeedType.ASD, Attendance.DAY, 12, 12, MAIDSTONE, max_distance_km=30
        ),
        "quality_weight": 60,
        "price_weight": 40,
        "quality_questions": QUALITY,
        "need_ref": "NEED-1",
        "opened_by": "commissioner-1",
    }
    fields.update(overrides)
    return CompetitionSpec(**fields)


def block_spec(**overrides: Any) -> CompetitionSpec:
    fields: dict[str, Any] = {
        "competition_id": "C2",
        "kind": CompetitionKind.BLOCK,
        "title": "10 ASD day places",
        "places": 10,
        "term_start": date(2026, 9, 1),
        "term_end": date(2029, 8, 31),
        "need_ref": None,
        "filter": FilterCriteria(NeedType.ASD, Attendance.DAY, 11, 16),
    }
    fields.update(overrides)
    return spec(**fields)


DEADLINE = NOW + timedelta(days=14)


def offer(
    pid: str,
    weekly: str = "1500.00",
    *,
    weeks: int = 38,
    start: date = date(2026, 4, 20),
    **overrides: Any,
) -> BidOffer:
    fields: dict[str, Any] = {
        "provider_id": pid,
        "fee_basis": FeeBasis.WEEKLY,
        "core_fee": Decimal(weekly),
        "weeks_per_year": weeks,
        "start_date": start,
        "answers": {"fit": "We will...", "transition": "Visits first"},
    }
    fields.update(overrides)
    return BidOffer(**fields)


def bid(pid: str, weekly: str = "1500.00", *, competition_id: str = "C1", **kw: Any) -> Bid:
    minutes = kw.pop("minutes", 0)
    round_ = kw.pop("round", 1)
    return Bid(
        bid_id=f"B-{pid}",
        competition_id=competition_id,
        round=round_,
        offer=offer(pid, weekly, **kw),
        submitted_at=NOW + timedelta(days=1, minutes=minutes),
    )


def with_status(obj: Any, **changes: Any) -> Any:
    return replace(obj, **changes)
