"""The Local Government Transparency Code 2015's quarterly list of contracts over £5,000,
for the placements and block contracts the system holds.

The Code (Part 2, "Procurement information", published quarterly) requires a council to
publish every contract, commissioned activity, purchase order, framework agreement or
other legally enforceable agreement with a value exceeding £5,000, with the details
listed in ``LGTC_COLUMNS``. A placement is a contract for a child's school place: it is
published without anything that identifies the child (no child reference, no dates of
birth, the contract's own non-personal reference only).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.contracts.common import Attendance
from shared.errors import DomainError
from shared.fiscal import PENNY

CODE = "Local Government Transparency Code 2015 (DCLG, 27 February 2015)"
CONTRACTS = f"{CODE}, Part 2 'Procurement information': the list of contracts over £5,000"
THRESHOLD = Decimal("5000.00")  # "with a value that exceeds £5,000" (CONTRACTS)
# Local authorities recover VAT on what they buy for their non-business functions, so
# none of a placement's VAT is unrecoverable.
VAT_ACT = "Value Added Tax Act 1994 s.33 (refunds of VAT to local authorities)"

# (column heading, source): one column per detail the Code names, in its order.
LGTC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Reference number", f"{CONTRACTS}: 'reference number'"),
    ("Title of agreement", f"{CONTRACTS}: 'title of agreement'"),
    ("Local authority department responsible", f"{CONTRACTS}: 'local authority department'"),
    (
        "Description of goods and/or services",
        f"{CONTRACTS}: 'description of the goods and/or services being provided'",
    ),
    ("Supplier name", f"{CONTRACTS}: 'supplier name and details'"),
    ("Supplier details", f"{CONTRACTS}: 'supplier name and details'"),
    (
        "Value (sum to be paid over the length of the contract)",
        f"{CONTRACTS}: 'sum to be paid "
        "over the length of the contract or the estimated annual spending or budget'",
    ),
    (
        "VAT that cannot be recovered",
        f"{CONTRACTS}: 'Value Added Tax that cannot be recovered'; {VAT_ACT}",
    ),
    ("Start date", f"{CONTRACTS}: 'start, end and review dates'"),
    ("End date", f"{CONTRACTS}: 'start, end and review dates'"),
    ("Review date", f"{CONTRACTS}: 'start, end and review dates'"),
    (
        "Invitation to quote or published invitation to tender",
        f"{CONTRACTS}: 'whether or not "
        "the contract was the result of an invitation to quote or a published invitation to "
        "tender'",
    ),
    ("SME", f"{CONTRACTS}: 'whether or not the supplier is a small or medium sized enterprise'"),
    ("VCSE", f"{CONTRACTS}: '... and/or a voluntary or community sector organisation'"),
    (
        "Registration number",
        f"{CONTRACTS}: 'where it is, provide the relevant registration number'",
    ),
)

NOT_RECORDED = "not recorded"  # what the system does not hold is said, never guessed

PUBLISHED_TENDER = "published invitation to tender"
ROUTE_WORDS = {
    "dps_award": f"{PUBLISHED_TENDER} (call-off competition under the advertised DPS)",
    "block_contract": f"{PUBLISHED_TENDER} (call-off competition under the advertised DPS)",
    "spot": "neither (spot purchase outside the DPS)",
}

ATTENDANCE_WORDS = {
    Attendance.DAY: "day",
    Attendance.RESIDENTIAL_38: "residential, 38 weeks",
    Attendance.RESIDENTIAL_52: "residential, 52 weeks",
}
ESTABLISHMENT_WORDS = {
    "independent_special_school": "Independent special school",
    "non_maintained_special_school": "Non-maintained special school",
    "section_41_approved": "Independent school (s.41 approved)",
}


@dataclass(frozen=True, slots=True)
class ContractLine:
    """One row of the list; no field names or points to a child."""

    reference: str
    title: str
    department: str
    description: str
    supplier_name: str
    supplier_details: str
    value: Decimal
    irrecoverable_vat: Decimal
    start_date: date
    end_date: date
    review_date: date | None
    route: str
    sme: str = NOT_RECORDED
    vcse: str = NOT_RECORDED
    registration_number: str = NOT_RECORDED

    def cells(self) -> list[str]:
        return [
            self.reference,
            self.title,
            self.department,
            self.description,
            self.supplier_name,
            self.supplier_details,
            f"{self.value.quantize(PENNY)}",
            f"{self.irrecoverable_vat.quantize(PENNY)}",
            self.start_date.isoformat(),
            self.end_date.isoformat(),
            self.review_date.isoformat() if self.review_date else "",
            self.route,
            self.sme,
            self.vcse,
            self.registration_number,
        ]


# The Code dates from 2015; a quarter outside these years is a typing error, and year 0
# or 9999-Q4 would not be a date at all.
FIRST_QUARTER_YEAR = 2000
LAST_QUARTER_YEAR = 2199


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """``2026-Q3`` -> 1 July 2026 to 30 September 2026 (calendar quarters: the Code says
    quarterly and names no year; the label says which months)."""
    year_text, _, number = quarter.upper().partition("-Q")
    if not (year_text.isdigit() and len(year_text) == 4 and number in {"1", "2", "3", "4"}):
        raise DomainError("quarter", "quarter_format", "a quarter is written YYYY-Qn, n 1-4")
    year, q = int(year_text), int(number)
    if not FIRST_QUARTER_YEAR <= year <= LAST_QUARTER_YEAR:
        raise DomainError(
            "quarter",
            "quarter_out_of_range",
            f"the year of a quarter is {FIRST_QUARTER_YEAR} to {LAST_QUARTER_YEAR}",
        )
    first = date(year, 3 * q - 2, 1)
    last = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def in_force(start: date, end: date, quarter: tuple[date, date]) -> bool:
    """Started or in force at any time in the quarter."""
    return start <= quarter[1] and end >= quarter[0]


def _category(need: str, attendance: Attendance) -> str:
    return f"{need}, {ATTENDANCE_WORDS[attendance]}"


def placement_contract_line(
    *,
    reference: str,
    provider_name: str,
    establishment_type: str | None,
    primary_need: str,
    attendance: Attendance,
    source: str,
    value: Decimal,
    start: date,
    end: date,
    review_date: date | None,
    department: str,
) -> ContractLine:
    """An individual placement agreement as a row: titled by its category, never its child."""
    setting = ESTABLISHMENT_WORDS.get(establishment_type or "", "Special school")
    category = _category(primary_need, attendance)
    return ContractLine(
        reference=reference,
        title=f"{setting} placement ({category})",
        department=department,
        description=(
            f"Education placement under an individual placement agreement for a child "
            f"or young person with an EHC plan ({category})"
        ),
        supplier_name=provider_name,
        supplier_details=NOT_RECORDED,
        value=value,
        irrecoverable_vat=Decimal("0.00"),
        start_date=start,
        end_date=end,
        review_date=review_date,
        route=ROUTE_WORDS.get(source, NOT_RECORDED),
    )


def block_contract_line(
    *,
    reference: str,
    provider_name: str,
    primary_need: str,
    attendance: Attendance,
    places: int,
    competed: bool,
    value: Decimal,
    start: date,
    end: date,
    review_date: date | None,
    department: str,
) -> ContractLine:
    """A block contract as a row (its places' placements are not listed again)."""
    category = _category(primary_need, attendance)
    return ContractLine(
        reference=reference,
        title=f"Block contract: {places} special school places ({category})",
        department=department,
        description=f"{places} school places bought for the contract term ({category})",
        supplier_name=provider_name,
        supplier_details=NOT_RECORDED,
        value=value,
        irrecoverable_vat=Decimal("0.00"),
        start_date=start,
        end_date=end,
        review_date=review_date,
        route=ROUTE_WORDS["dps_award"] if competed else NOT_RECORDED,
    )


def over_threshold(lines: Iterable[ContractLine]) -> list[ContractLine]:
    """The rows the Code asks for: value exceeding £5,000, by start date then reference."""
    kept = [line for line in lines if line.value > THRESHOLD]
    return sorted(kept, key=lambda line: (line.start_date, line.reference))


def contracts_csv(lines: Iterable[ContractLine]) -> str:
    """The list as CSV: a heading row, then one row per contract over £5,000."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([heading for heading, _ in LGTC_COLUMNS])
    for line in over_threshold(lines):
        writer.writerow(line.cells())
    return out.getvalue()
