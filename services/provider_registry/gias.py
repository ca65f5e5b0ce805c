"""Import providers from the DfE "Get Information About Schools" (GIAS) extract.

One row (column -> text) becomes a :class:`~services.provider_registry.domain.ProviderDraft`
plus its latest Ofsted inspection, or the reasons it is rejected, each naming the GIAS
column and the rule. Column names are matched with or without their GIAS suffix
(``"TypeOfEstablishment (name)"`` or ``"TypeOfEstablishment"``), ignoring case, spaces
and a byte-order mark. Pure: no files, no clock (``today`` is passed in); a postcode
lookup can be injected for rows without Easting/Northing.

Also a deterministic generator of synthetic extracts (with deliberately bad rows) and
CSV read/write helpers, for tests and the demo.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

from services.provider_registry.domain import (
    AGE_RANGE,
    URN_RANGE,
    Attendance,
    Contact,
    DomainError,
    EstablishmentClosure,
    GenderIntake,
    Inspection,
    NeedType,
    OfstedJudgement,
    Point,
    ProviderDraft,
    ProviderType,
    clean_draft,
    validate_draft,
    validate_inspection,
)
from shared.geography import bng_to_wgs84

Locate = Callable[[str], Point | None]
_T = TypeVar("_T")

SEN_COLUMNS = tuple(f"SEN{number} (name)" for number in range(1, 14))
GIAS_COLUMNS: tuple[str, ...] = (
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "StatutoryLowAge",
    "StatutoryHighAge",
    "Boarders (name)",
    "Gender (name)",
    "SchoolCapacity",
    "NumberOfPupils",
    "Section41Approved (name)",
    "Street",
    "Locality",
    "Address3",
    "Town",
    "County (name)",
    "Postcode",
    "Easting",
    "Northing",
    "PropsName",
    "HeadTitle (name)",
    "HeadFirstName",
    "HeadLastName",
    "TelephoneNum",
    "OfstedRating (name)",
    "OfstedLastInsp",
    *SEN_COLUMNS,
)

# --- vocabularies of the extract --------------------------------------------------------

NMISS_TYPES: Mapping[str, ProviderType] = {
    "other independent special school": ProviderType.INDEPENDENT_SPECIAL_SCHOOL,
    "non-maintained special school": ProviderType.NON_MAINTAINED_SPECIAL_SCHOOL,
}
OPEN_STATUSES = frozenset({"open", "open, but proposed to close"})
# EstablishmentStatus (name) of a school that is closing: the register closes or flags
# the provider it knows by that URN (domain.CLOSURE_STATUS says how).
CLOSING_STATUSES: Mapping[str, EstablishmentClosure] = {
    "closed": EstablishmentClosure.CLOSED,
    "open, but proposed to close": EstablishmentClosure.PROPOSED_TO_CLOSE,
}
GENDERS: Mapping[str, GenderIntake] = {
    "mixed": GenderIntake.MIXED,
    "boys": GenderIntake.BOYS,
    "girls": GenderIntake.GIRLS,
}
_DAY = frozenset({Attendance.DAY})
_BOARDING = frozenset({Attendance.DAY, Attendance.RESIDENTIAL_38})
# GIAS cannot tell 38- from 52-week boarding: only a registered children's home is
# taken to offer 52 weeks. Providers correct this after import.
BOARDERS: Mapping[str, frozenset[Attendance]] = {
    "": _DAY,
    "no boarders": _DAY,
    "not applicable": _DAY,
    "boarding school": _BOARDING,
    "has boarders": _BOARDING,
    "children's home (boarding school)": frozenset(Attendance),
}
# SEN provision labels start with the SEN2 code: "ASD - Autistic Spectrum Disorder".
SEN_CODES: Mapping[str, NeedType] = {
    **{need.value.lower(): need for need in NeedType},
    "besd": NeedType.SEMH,  # older name for SEMH in some extracts
}
OFSTED_RATINGS: Mapping[str, OfstedJudgement] = {
    "outstanding": OfstedJudgement.OUTSTANDING,
    "good": OfstedJudgement.GOOD,
    "requires improvement": OfstedJudgement.REQUIRES_IMPROVEMENT,
    "satisfactory": OfstedJudgement.REQUIRES_IMPROVEMENT,  # pre-2012 name
    "inadequate": OfstedJudgement.INADEQUATE,
    "serious weaknesses": OfstedJudgement.INADEQUATE,
    "special measures": OfstedJudgement.INADEQUATE,
}
STANDARDS_RATINGS: Mapping[str, bool] = {
    "met": True,
    "standards met": True,
    "not met": False,
    "standards not met": False,
}
_DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d")

# Where a domain rule is reported against the extract's own column.
_DOMAIN_TO_GIAS: Mapping[str, str] = {
    "urn": "URN",
    "name": "EstablishmentName",
    "proprietor": "PropsName",
    "address": "Street",
    "postcode": "Postcode",
    "latitude": "Easting",
    "longitude": "Easting",
    "age_low": "StatutoryLowAge",
    "age_high": "StatutoryHighAge",
    "attendance": "Boarders (name)",
    "capacity": "SchoolCapacity",
    "places_in_use": "NumberOfPupils",
    "need_types": "SEN1 (name)",
}


# --- reading one row --------------------------------------------------------------------


def _key(column: str) -> str:
    return " ".join(column.replace("\ufeff", "").split()).lower()


class _Row:
    """A row whose columns are found with or without their GIAS suffix."""

    def __init__(self, raw: Mapping[str, str | None]) -> None:
        self._values = {_key(column): (value or "").strip() for column, value in raw.items()}

    def get(self, column: str) -> str:
        wanted = _key(column)
        bare = re.sub(r"\s*\((name|code)\)$", "", wanted)
        return self._values.get(wanted) or self._values.get(bare, "")


@dataclass(frozen=True, slots=True)
class GiasRow:
    """The outcome for one row: a cleaned draft (and inspection) or the reasons."""

    urn: str  # as written in the extract, to report rejections
    draft: ProviderDraft | None
    inspection: Inspection | None
    reasons: tuple[DomainError, ...]  # field = GIAS column; empty when accepted
    warnings: tuple[str, ...] = ()
    # The school is closing. A closed row is rejected (a closed school is never
    # registered), yet it closes the provider the register knows by ``urn``.
    closure: EstablishmentClosure | None = None

    @property
    def accepted(self) -> bool:
        return self.draft is not None


class _Reader:
    """Collects every reason while reading columns, so all are reported at once."""

    def __init__(self, row: _Row) -> None:
        self.row = row
        self.reasons: list[DomainError] = []
        self.warnings: list[str] = []

    def reject(self, column: str, rule: str) -> None:
        self.reasons.append(DomainError(column, rule))

    def whole_number(self, column: str, blank: int | None = None) -> int | None:
        text = self.row.get(column)
        if not text and blank is not None:
            return blank
        if re.fullmatch(r"\d+", text):
            return int(text)
        self.reject(column, "must be a whole number")
        return None

    def choice(self, column: str, options: Mapping[str, _T], rule: str) -> _T | None:
        text = self.row.get(column)
        if text.lower() in options:
            return options[text.lower()]
        self.reject(column, f"{rule}, not {text!r}")
        return None


def _provider_type(reader: _Reader) -> tuple[ProviderType | None, bool]:
    """(type, on the section 41 list); section 41 admits other independent schools."""
    label = reader.row.get("TypeOfEstablishment (name)")
    section_41 = reader.row.get("Section41Approved (name)").lower() == "approved"
    provider_type = NMISS_TYPES.get(label.lower())
    if provider_type is None and section_41:
        provider_type = ProviderType.SECTION_41_APPROVED
    if provider_type is None:
        reader.reject(
            "TypeOfEstablishment (name)",
            f"must be an independent special, non-maintained special or section 41 "
            f"approved school, not {label!r}",
        )
    return provider_type, section_41


def _check_open(reader: _Reader) -> None:
    status = reader.row.get("EstablishmentStatus (name)")
    if status and status.lower() not in OPEN_STATUSES:
        reader.reject("EstablishmentStatus (name)", f"must be open, not {status!r}")


def _closure(row: _Row) -> EstablishmentClosure | None:
    return CLOSING_STATUSES.get(row.get("EstablishmentStatus (name)").lower())


def _need_types(reader: _Reader) -> frozenset[NeedType]:
    needs = set()
    for column in SEN_COLUMNS:
        label = reader.row.get(column)
        if not label:
            continue
        code = label.split(" - ", 1)[0].strip().lower()
        if code in SEN_CODES:
            needs.add(SEN_CODES[code])
        else:
            reader.warnings.append(f"{column}: unknown SEN provision {label!r} ignored")
    return frozenset(needs)


def _location(reader: _Reader, locate: Locate | None) -> Point | None:
    easting, northing = reader.row.get("Easting"), reader.row.get("Northing")
    missing = ("", "0")  # GIAS leaves some blank or zero
    if easting not in missing or northing not in missing:
        if easting.isdigit() and northing.isdigit():
            return bng_to_wgs84(int(easting), int(northing))
        reader.reject("Easting", "Easting and Northing must be whole numbers of metres")
        return None
    point = locate(reader.row.get("Postcode")) if locate else None
    if point is not None:
        reader.warnings.append("no Easting/Northing: located at the postcode district centroid")
    else:
        reader.warnings.append("no Easting/Northing: provider has no location")
    return point


def _address(row: _Row) -> str:
    parts = [row.get(c) for c in ("Street", "Locality", "Address3", "Town", "County (name)")]
    return ", ".join(part for part in parts if part) or row.get("Postcode")


def _head_contact(row: _Row) -> tuple[Contact, ...]:
    parts = [row.get(c) for c in ("HeadTitle (name)", "HeadFirstName", "HeadLastName")]
    name = " ".join(part for part in parts if part and part.lower() != "not applicable")
    if not row.get("HeadLastName"):
        return ()
    phone = row.get("TelephoneNum") or None
    return (Contact(name=name, role="headteacher", phone=phone),)


def _parse_date(text: str) -> date | None:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _inspection(reader: _Reader, today: date) -> Inspection | None:
    rating = reader.row.get("OfstedRating (name)").lower()
    when = reader.row.get("OfstedLastInsp")
    if not rating or not when:
        if rating or when:
            reader.warnings.append("Ofsted rating and date must come together: ignored")
        return None  # not yet inspected
    inspected_on = _parse_date(when)
    if inspected_on is None:
        reader.reject("OfstedLastInsp", f"must be a date dd-mm-yyyy, not {when!r}")
        return None
    if rating in OFSTED_RATINGS:
        inspection = Inspection(inspected_on=inspected_on, overall=OFSTED_RATINGS[rating])
    elif rating in STANDARDS_RATINGS:
        inspection = Inspection(inspected_on=inspected_on, standards_met=STANDARDS_RATINGS[rating])
    else:
        reader.warnings.append(f"OfstedRating (name): {rating!r} not graded, ignored")
        return None
    for error in validate_inspection(inspection, today):
        reader.reject("OfstedLastInsp", error.rule)
    return inspection


def parse_gias_row(
    raw: Mapping[str, str | None], today: date, locate: Locate | None = None
) -> GiasRow:
    """One extract row -> an accepted, cleaned draft (+ inspection) or every reason."""
    reader = _Reader(_Row(raw))
    row = reader.row
    urn = reader.whole_number("URN")
    provider_type, section_41 = _provider_type(reader)
    _check_open(reader)
    age_low = reader.whole_number("StatutoryLowAge")
    age_high = reader.whole_number("StatutoryHighAge")
    gender = reader.choice("Gender (name)", GENDERS, "must be Mixed, Boys or Girls")
    attendance = reader.choice("Boarders (name)", BOARDERS, "must be a known boarding type")
    capacity = reader.whole_number("SchoolCapacity")
    pupils = reader.whole_number("NumberOfPupils", blank=0)
    location = _location(reader, locate)
    inspection = _inspection(reader, today)
    # Columns that could not be read get stand-ins that break no rule, so the domain
    # rules on every other column are still checked and all reasons come at once.
    low = 0 if age_low is None else age_low
    in_use = 0 if pupils is None else pupils
    draft = ProviderDraft(
        urn=URN_RANGE[0] if urn is None else urn,
        name=row.get("EstablishmentName"),
        proprietor=row.get("PropsName") or row.get("EstablishmentName"),
        provider_type=provider_type or ProviderType.INDEPENDENT_SPECIAL_SCHOOL,
        address=_address(row),
        postcode=row.get("Postcode"),
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        age_low=low,
        age_high=AGE_RANGE[1] if age_high is None else age_high,
        gender_intake=gender or GenderIntake.MIXED,
        attendance=attendance or frozenset({Attendance.DAY}),
        capacity=in_use if capacity is None else capacity,
        places_in_use=in_use,
        need_types=_need_types(reader),
        contacts=_head_contact(row),
        section_41_approved=section_41,
        local_authority_code=_la_code(row),
        local_authority_name=_la_name(row),
    )
    draft = _drop_bad_contacts(draft, reader)
    unreadable = {reason.field for reason in reader.reasons}
    for error in validate_draft(draft):
        column = _DOMAIN_TO_GIAS.get(error.field, error.field)
        if column not in unreadable:
            reader.reject(column, error.rule)
    if reader.reasons:
        return _rejected(row, reader)
    return GiasRow(
        row.get("URN"), clean_draft(draft), inspection, (), tuple(reader.warnings), _closure(row)
    )


def _drop_bad_contacts(draft: ProviderDraft, reader: _Reader) -> ProviderDraft:
    """A malformed head's phone number is not worth rejecting a school over."""
    bad = [e for e in validate_draft(draft) if e.field.startswith("contacts")]
    if not bad:
        return draft
    reader.warnings += [f"head contact dropped: {error}" for error in bad]
    return replace(draft, contacts=())


def _rejected(row: _Row, reader: _Reader) -> GiasRow:
    reasons, warnings = tuple(reader.reasons), tuple(reader.warnings)
    return GiasRow(row.get("URN"), None, None, reasons, warnings, _closure(row))


def _la_code(row: _Row) -> str | None:
    code = row.get("LA (code)")
    return code if code.isdigit() else None


def _la_name(row: _Row) -> str | None:
    name = row.get("LA (name)")
    return None if not name or name.isdigit() else name


def parse_extract(
    rows: Iterable[Mapping[str, str | None]], today: date, locate: Locate | None = None
) -> list[GiasRow]:
    """Every row of an extract, accepted or rejected, in order."""
    return [parse_gias_row(row, today, locate) for row in rows]


# --- CSV --------------------------------------------------------------------------------


def read_extract_csv(text: str) -> list[dict[str, str]]:
    """Rows of a GIAS CSV (tolerates a byte-order mark)."""
    return [dict(row) for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]


def write_extract_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """CSV text with the GIAS columns first, then any others in first-seen order."""
    rows = list(rows)
    columns = list(GIAS_COLUMNS)
    for row in rows:
        columns += [column for column in row if column not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# --- synthetic extracts -----------------------------------------------------------------

# (district, centroid easting, northing, town, LA code, LA name); centroids from
# shared/data/postcode_districts.csv so that generated rows locate where they claim.
_PLACES = (
    ("ME14", 577501, 156372, "Maidstone", "886", "Kent"),
    ("CT1", 615319, 157681, "Canterbury", "886", "Kent"),
    ("TN23", 599915, 141708, "Ashford", "886", "Kent"),
    ("DA1", 553634, 174438, "Dartford", "886", "Kent"),
    ("ME7", 577960, 167622, "Gillingham", "887", "Medway"),
    ("CM2", 571853, 205382, "Chelmsford", "881", "Essex"),
    ("BN21", 560608, 99494, "Eastbourne", "845", "East Sussex"),
    ("GU1", 500269, 150302, "Guildford", "936", "Surrey"),
    ("SO23", 448537, 130162, "Winchester", "850", "Hampshire"),
    ("NR2", 622072, 308540, "Norwich", "926", "Norfolk"),
    ("B15", 405312, 285382, "Birmingham", "330", "Birmingham"),
    ("M20", 384636, 391956, "Manchester", "352", "Manchester"),
    ("LS6", 428354, 436064, "Leeds", "383", "Leeds"),
    ("BS8", 356863, 173358, "Bristol", "801", "Bristol, City of"),
    ("EX4", 292369, 93537, "Exeter", "878", "Devon"),
    ("PR1", 353839, 429225, "Preston", "888", "Lancashire"),
    ("CF14", 316566, 180811, "Cardiff", "681", "Cardiff"),
)
_NAME_FIRST = (
    "Oakfield", "Brookside", "Meadowbank", "Hillcrest", "Riverside", "Beechwood",
    "Cedars", "Willowdene", "Orchard", "Harbour", "Kingsley", "Ashdown", "Larkrise",
    "Fernhill", "Heathside", "Maple", "Rowan", "Silverbirch",
)  # fmt: skip
_NAME_LAST = ("House School", "School", "College", "Park School", "Learning Centre")
_PROPRIETORS = (
    "Kestrel Education Ltd", "Heron Care Trust", "Sycamore Learning Ltd",
    "Lantern Schools Ltd", "Harbourside Education Ltd", "Three Rivers Care Ltd",
)  # fmt: skip
_STREETS = ("London Road", "Church Lane", "Station Road", "Mill Lane", "The Green")
_SEN_LABELS = (
    "ASD - Autistic Spectrum Disorder",
    "SEMH - Social, Emotional and Mental Health",
    "SLCN - Speech, language and Communication",
    "MLD - Moderate Learning Difficulty",
    "SLD - Severe Learning Difficulty",
    "PMLD - Profound and Multiple Learning Difficulty",
    "SpLD - Specific Learning Difficulty",
    "HI - Hearing Impairment",
    "VI - Visual Impairment",
    "MSI - Multi-Sensory Impairment",
    "PD - Physical Disability",
    "OTH - Other Difficulty/Disability",
)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# How the deliberately bad rows are spoilt, in turn.
BAD_ROW_KINDS = (
    "urn_not_6_digits",
    "ages_reversed",
    "closed",
    "bad_postcode",
    "no_sen_provision",
    "mainstream_type",
    "over_capacity",
    "bad_inspection_date",
    "gender_not_applicable",
)


def generate_extract(
    rows: int, seed: int, bad_every: int | None = None, as_of: date = date(2025, 9, 1)
) -> list[dict[str, str]]:
    """Synthetic but plausible GIAS rows, the same for the same seed.

    With ``bad_every=n`` every n-th row (rows n, 2n, ...) is spoilt in one way, cycling
    through BAD_ROW_KINDS; see :func:`bad_row_kind`. Inspections fall before ``as_of``.
    """
    rng = random.Random(seed)
    urns = rng.sample(range(100000, 1000000), rows)
    extract = []
    for index, urn in enumerate(urns):
        row = _synthetic_row(rng, urn, as_of)
        kind = bad_row_kind(index, bad_every)
        if kind is not None:
            _spoil(row, kind)
        extract.append(row)
    return extract


def bad_row_kind(index: int, bad_every: int | None) -> str | None:
    """Which defect generate_extract put in the row at ``index`` (0-based), if any."""
    if not bad_every or (index + 1) % bad_every:
        return None
    return BAD_ROW_KINDS[((index + 1) // bad_every - 1) % len(BAD_ROW_KINDS)]


def _synthetic_row(rng: random.Random, urn: int, as_of: date) -> dict[str, str]:
    district, easting, northing, town, la_code, la_name = rng.choice(_PLACES)
    age_low = rng.choice((4, 5, 7, 8, 10, 11, 13))
    capacity = rng.randrange(20, 201)
    establishment_type, section_41 = rng.choices(
        (
            ("Other independent special school", "Approved"),
            ("Other independent special school", "Not approved"),
            ("Non-maintained special school", "Not approved"),
            ("Other independent school", "Approved"),
        ),
        weights=(45, 25, 15, 15),
    )[0]
    needs = rng.sample(_SEN_LABELS, rng.randint(1, 5))
    row = dict.fromkeys(GIAS_COLUMNS, "")  # every column, in extract order
    row |= {
        "URN": str(urn),
        "LA (code)": la_code,
        "LA (name)": la_name,
        "EstablishmentName": f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_LAST)}",
        "TypeOfEstablishment (name)": establishment_type,
        "EstablishmentStatus (name)": "Open",
        "StatutoryLowAge": str(age_low),
        "StatutoryHighAge": str(rng.choice((16, 18, 19, 25))),
        "Boarders (name)": rng.choices(
            ("No boarders", "Boarding school", "Children's home (Boarding school)"),
            weights=(70, 20, 10),
        )[0],
        "Gender (name)": rng.choices(("Mixed", "Boys", "Girls"), weights=(80, 12, 8))[0],
        "SchoolCapacity": str(capacity),
        "NumberOfPupils": str(rng.randint(capacity // 2, capacity)),
        "Section41Approved (name)": section_41,
        "Street": f"{rng.randint(1, 120)} {rng.choice(_STREETS)}",
        "Town": town,
        "Postcode": f"{district} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}"
        f"{rng.choice(_INWARD_LETTERS)}",
        "Easting": str(easting + rng.randint(-2000, 2000)),
        "Northing": str(northing + rng.randint(-2000, 2000)),
        "PropsName": "" if "Non-maintained" in establishment_type else rng.choice(_PROPRIETORS),
        "HeadTitle (name)": rng.choice(("Mr", "Mrs", "Ms", "Dr")),
        "HeadFirstName": rng.choice(("Sam", "Alex", "Jo", "Chris", "Priya", "Tom")),
        "HeadLastName": rng.choice(("Patel", "Smith", "Jones", "Okafor", "Evans", "Hughes")),
        "TelephoneNum": f"01{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        **_synthetic_inspection(rng, as_of),
    }
    row.update(zip(SEN_COLUMNS, needs, strict=False))
    return row


def _synthetic_inspection(rng: random.Random, as_of: date) -> dict[str, str]:
    rating = rng.choices(
        ("Outstanding", "Good", "Requires improvement", "Inadequate", "Met", ""),
        weights=(15, 50, 15, 5, 10, 5),
    )[0]
    inspected = as_of - timedelta(days=rng.randint(30, 5 * 365))
    return {
        "OfstedRating (name)": rating,
        "OfstedLastInsp": inspected.strftime("%d-%m-%Y") if rating else "",
    }


def _spoil(row: dict[str, str], kind: str) -> None:
    spoilers: dict[str, Callable[[], None]] = {
        "urn_not_6_digits": lambda: row.update(URN=row["URN"][:5]),
        "ages_reversed": lambda: row.update(StatutoryLowAge="16", StatutoryHighAge="11"),
        "closed": lambda: row.update({"EstablishmentStatus (name)": "Closed"}),
        "bad_postcode": lambda: row.update(Postcode="NOT A POSTCODE"),
        "no_sen_provision": lambda: row.update({column: "" for column in SEN_COLUMNS}),
        "mainstream_type": lambda: row.update(
            {"TypeOfEstablishment (name)": "Community school", "Section41Approved (name)": ""}
        ),
        "over_capacity": lambda: row.update(NumberOfPupils=str(int(row["SchoolCapacity"]) + 7)),
        "bad_inspection_date": lambda: row.update(
            {"OfstedRating (name)": "Good", "OfstedLastInsp": "31-02-2024"}
        ),
        "gender_not_applicable": lambda: row.update({"Gender (name)": "Not applicable"}),
    }
    spoilers[kind]()
