"""The SEN2 return's placement detail for the children whose placements the system holds.

SEN2 is the Department for Education's person-level return of EHC plans, made each
January by every council in England (sources in docs/law/returns.md). Its placement items (the ``<PlacementDetail>`` of a person's active plan)
are the establishment attended (URN, else UKPRN, else a setting code), the placement rank,
the entry and leaving dates, the attendance pattern and the SEN unit / resourced
provision indicators. This module builds those items from placements and checks them
against the specification's rules; each rule carries its source.

The system holds children by a pseudonymous reference only (no name, UPN or date of
birth), so the extract is keyed by that reference: the council's case-management system
joins it to its person module to make the full return. Nothing here is the whole return.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise

from shared.contracts.common import Attendance
from shared.errors import DomainError

# --- sources ------------------------------------------------------------------------------

SPEC = "DfE, SEN2 person level technical specification (collection of January {year})"
SPEC_TIMINGS = "SEN2 technical specification s.1.2 'Coverage and timings'"
SPEC_ITEMS = (
    "SEN2 technical specification, Module 'Active plans' <PlacementDetail>: items URN, "
    "UKPRN, SENsetting, PlacementRank, EntryDate, LeavingDate, AttendancePattern, "
    "SENunitIndicator, ResourcedProvisionIndicator (items 5.5a-5.5i; numbered 5.7a-i in "
    "later guides)"
)
SPEC_VALIDATION = "SEN2 technical specification s.4 'Validation checks'"
CBDS = "DfE Common Basic Data Set (CBDS): URN is 6 digits, UKPRN 8 digits starting 1"


def census_date(year: int) -> date:
    """SEN2 census day: the third Thursday of January of the collection year (16 January
    2025, 15 January 2026), as the DfE sets it each year (SPEC_TIMINGS)."""
    first = date(year, 1, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=2)


def collection_year(year: int) -> tuple[date, date]:
    """The calendar year the SEN2 of January ``year`` reports activity for: 1 January to
    31 December of the year before (SPEC_TIMINGS). Placements are in scope if attended
    at any time from its start to the census day."""
    return date(year - 1, 1, 1), date(year - 1, 12, 31)


# --- code sets ----------------------------------------------------------------------------

MAIN, SUBSIDIARY = 1, 2  # PlacementRank: 1 the main placement, 2 a subsidiary one (dual)
PLACEMENT_RANKS = frozenset({MAIN, SUBSIDIARY})
FULL_TIME, PART_TIME = "FT", "PT"
ATTENDANCE_PATTERNS = frozenset({FULL_TIME, PART_TIME})

# Every place the system buys is a full-time school place (day or residential, 38 or 52
# weeks): part-time attendance is not a pattern it can contract for.
ATTENDANCE_PATTERN: dict[Attendance, str] = {
    Attendance.DAY: FULL_TIME,
    Attendance.RESIDENTIAL_38: FULL_TIME,
    Attendance.RESIDENTIAL_52: FULL_TIME,
}


# --- the extract --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sen2Placement:
    """One ``<PlacementDetail>`` of one child, keyed by the pseudonymous child reference."""

    child_ref: str
    placement_id: str  # send-dps's own id, for tracing a finding; not a SEN2 item
    urn: str | None
    ukprn: str | None
    sen_setting: str | None
    placement_rank: int
    entry_date: date | None
    leaving_date: date | None
    attendance_pattern: str
    sen_unit_indicator: bool = False
    resourced_provision_indicator: bool = False
    establishment_type: str | None = None  # the provider's type, for the council's check


@dataclass(frozen=True, slots=True)
class Sen2Issue:
    """A rule a placement detail breaks: the placement, the rule (field, code, words) and
    where the rule comes from."""

    placement_id: str
    error: DomainError
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"placement_id": self.placement_id, **self.error.to_dict(), "source": self.source}


@dataclass(frozen=True, slots=True)
class Sen2Return:
    year: int
    census_date: date
    collection_start: date
    collection_end: date
    placements: tuple[Sen2Placement, ...]
    issues: tuple[Sen2Issue, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not self.issues


def in_scope(entry: date, last_day: date | None, year: int) -> bool:
    """Attended at some time between the start of the collection year and census day."""
    start, _ = collection_year(year)
    return entry <= census_date(year) and (last_day is None or last_day >= start)


def sen2_placement(
    *,
    child_ref: str,
    placement_id: str,
    urn: int | str | None,
    entry_date: date,
    ended_on: date | None,
    attendance: Attendance,
    year: int,
    establishment_type: str | None = None,
) -> Sen2Placement:
    """A placement as SEN2 reports it. A leaving date is reported only when the child left
    before census day (a later one is not yet a fact on the day the return describes)."""
    leaving = ended_on if ended_on is not None and ended_on < census_date(year) else None
    return Sen2Placement(
        child_ref=child_ref,
        placement_id=placement_id,
        urn=None if urn is None else str(urn),
        ukprn=None,
        sen_setting=None,  # only for a setting with neither URN nor UKPRN
        placement_rank=MAIN,  # the school place the council commissions is the main one
        entry_date=entry_date,
        leaving_date=leaving,
        attendance_pattern=ATTENDANCE_PATTERN[attendance],
        establishment_type=establishment_type,
    )


# --- the rules ----------------------------------------------------------------------------

# rule code -> (field, what it says, source): what tests and docs/law/returns.md list.
SEN2_RULES: dict[str, tuple[str, str, str]] = {
    "child_ref_required": (
        "child_ref",
        "every placement names the child it belongs to (here: the pseudonymous reference)",
        SPEC_ITEMS + "; a PlacementDetail belongs to a Person",
    ),
    "establishment_required": (
        "urn",
        "a placement names its establishment by URN, else UKPRN, else a SENsetting code",
        SPEC_ITEMS,
    ),
    "sen_setting_only_without_establishment": (
        "sen_setting",
        "SENsetting is given only when the setting has neither URN nor UKPRN",
        SPEC_ITEMS,
    ),
    "urn_six_digits": ("urn", "URN is six digits", CBDS),
    "ukprn_eight_digits": ("ukprn", "UKPRN is eight digits starting 1", CBDS),
    "placement_rank_code": ("placement_rank", "PlacementRank is 1 (main) or 2", SPEC_ITEMS),
    "entry_date_required": ("entry_date", "EntryDate is required", SPEC_ITEMS),
    "entry_date_after_census": (
        "entry_date",
        "EntryDate is on or before census day",
        SPEC_VALIDATION + "; " + SPEC_TIMINGS,
    ),
    "leaving_date_before_entry": (
        "leaving_date",
        "LeavingDate is on or after EntryDate",
        SPEC_VALIDATION,
    ),
    "leaving_date_not_before_census": (
        "leaving_date",
        "LeavingDate, when given, is before census day (a child still there has none)",
        SPEC_ITEMS + " (LeavingDate); " + SPEC_VALIDATION,
    ),
    "leaving_date_before_collection_year": (
        "leaving_date",
        "a placement left before the collection year began is not reported",
        SPEC_TIMINGS,
    ),
    "attendance_pattern_code": (
        "attendance_pattern",
        "AttendancePattern is FT or PT",
        SPEC_ITEMS,
    ),
    "one_main_placement_at_a_time": (
        "placement_rank",
        "a child has one main (rank 1) placement at a time",
        SPEC_ITEMS + " (PlacementRank); " + SPEC_VALIDATION,
    ),
}


def _broken(p: Sen2Placement, code: str, detail: str = "") -> Sen2Issue:
    where, words, source = SEN2_RULES[code]
    return Sen2Issue(p.placement_id, DomainError(where, code, words + detail), source)


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def _check_one(p: Sen2Placement, year: int) -> list[Sen2Issue]:
    census = census_date(year)
    start, _ = collection_year(year)
    found: list[Sen2Issue] = []
    if not p.child_ref.strip():
        found.append(_broken(p, "child_ref_required"))
    if not (p.urn or p.ukprn or p.sen_setting):
        found.append(_broken(p, "establishment_required"))
    if p.sen_setting and (p.urn or p.ukprn):
        found.append(_broken(p, "sen_setting_only_without_establishment"))
    if p.urn and not _digits(p.urn, 6):
        found.append(_broken(p, "urn_six_digits", f" (got {p.urn!r})"))
    if p.ukprn and not (_digits(p.ukprn, 8) and p.ukprn.startswith("1")):
        found.append(_broken(p, "ukprn_eight_digits", f" (got {p.ukprn!r})"))
    if p.placement_rank not in PLACEMENT_RANKS:
        found.append(_broken(p, "placement_rank_code"))
    if p.attendance_pattern not in ATTENDANCE_PATTERNS:
        found.append(_broken(p, "attendance_pattern_code"))
    if p.entry_date is None:
        found.append(_broken(p, "entry_date_required"))
    elif p.entry_date > census:
        found.append(_broken(p, "entry_date_after_census", f" ({census.isoformat()})"))
    if p.leaving_date is not None:
        if p.entry_date is not None and p.leaving_date < p.entry_date:
            found.append(_broken(p, "leaving_date_before_entry"))
        if p.leaving_date >= census:
            found.append(_broken(p, "leaving_date_not_before_census", f" ({census})"))
        if p.leaving_date < start:
            found.append(_broken(p, "leaving_date_before_collection_year", f" ({start})"))
    return found


def _overlapping_main(placements: Sequence[Sen2Placement], year: int) -> list[Sen2Issue]:
    census = census_date(year)
    by_child: dict[str, list[Sen2Placement]] = defaultdict(list)
    for p in placements:
        if p.placement_rank == MAIN and p.entry_date is not None:
            by_child[p.child_ref].append(p)
    found: list[Sen2Issue] = []
    for mains in by_child.values():
        mains.sort(key=lambda p: (p.entry_date or census, p.placement_id))
        for before, after in pairwise(mains):
            ends = before.leaving_date or census  # no leaving date: still there on the day
            if after.entry_date is not None and after.entry_date <= ends:
                found.append(_broken(after, "one_main_placement_at_a_time"))
    return found


def validate_sen2(placements: Iterable[Sen2Placement], year: int) -> list[Sen2Issue]:
    """Every rule every placement detail breaks (empty: the extract is valid)."""
    placements = list(placements)
    found = [issue for p in placements for issue in _check_one(p, year)]
    return found + _overlapping_main(placements, year)


def build_return(placements: Iterable[Sen2Placement], year: int) -> Sen2Return:
    chosen = tuple(sorted(placements, key=lambda p: (p.child_ref, p.entry_date or date.min)))
    start, end = collection_year(year)
    return Sen2Return(
        year=year,
        census_date=census_date(year),
        collection_start=start,
        collection_end=end,
        placements=chosen,
        issues=tuple(validate_sen2(chosen, year)),
    )


# --- the XML ------------------------------------------------------------------------------


def _text(parent: ET.Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _flag(value: bool) -> str:
    return "true" if value else "false"  # CBDS boolean


def sen2_xml(
    sen2: Sen2Return, *, la_code: str | None, generated_at: datetime, release: str
) -> bytes:
    """The placement detail as SEN2 XML (CBDS tags): a header naming the collection and
    census day, then one ``<Person>`` per child with its ``<PlacementDetail>`` items.

    ``<ChildRef>`` is not a SEN2 item: it is the pseudonymous reference the council's
    case-management system replaces with its person module (UPN, names, birth date)
    when it joins this extract into the return it submits.
    """
    message = ET.Element("Message")
    header = ET.SubElement(message, "Header")
    details = ET.SubElement(header, "CollectionDetails")
    _text(details, "Collection", "SEN2")
    _text(details, "Year", sen2.year)
    _text(details, "ReferenceDate", sen2.census_date.isoformat())
    source = ET.SubElement(header, "Source")
    _text(source, "SourceLevel", "L")
    if la_code:
        _text(source, "LEA", la_code)
    _text(source, "SoftwareCode", "send-dps")
    _text(source, "Release", release)
    _text(source, "DateTime", generated_at.replace(microsecond=0).isoformat())
    persons = ET.SubElement(message, "Persons")
    by_child: dict[str, list[Sen2Placement]] = defaultdict(list)
    for p in sen2.placements:
        by_child[p.child_ref].append(p)
    for child_ref, placements in by_child.items():
        person = ET.SubElement(persons, "Person")
        _text(person, "ChildRef", child_ref)
        plans = ET.SubElement(person, "ActivePlans")
        for p in placements:
            detail = ET.SubElement(plans, "PlacementDetail")
            if p.urn:
                _text(detail, "URN", p.urn)
            if p.ukprn:
                _text(detail, "UKPRN", p.ukprn)
            if p.sen_setting:
                _text(detail, "SENsetting", p.sen_setting)
            _text(detail, "PlacementRank", p.placement_rank)
            if p.entry_date is not None:
                _text(detail, "EntryDate", p.entry_date.isoformat())
            if p.leaving_date is not None:
                _text(detail, "LeavingDate", p.leaving_date.isoformat())
            _text(detail, "AttendancePattern", p.attendance_pattern)
            _text(detail, "SENunitIndicator", _flag(p.sen_unit_indicator))
            _text(detail, "ResourcedProvisionIndicator", _flag(p.resourced_provision_indicator))
    ET.indent(message)
    return ET.tostring(message, encoding="utf-8", xml_declaration=True)
