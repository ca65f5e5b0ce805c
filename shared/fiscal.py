"""Money and the council's financial year, in one place for every service.

Money is ``Decimal`` to the penny, rounded half up (as councils' finance systems round);
exact intermediate sums are ``Fraction`` and become pennies only once, at the end. A
financial year is named by the calendar year it starts in: 2025 is 1 April 2025 to
31 March 2026.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

PENNY = Decimal("0.01")


def round_money(amount: Decimal) -> Decimal:
    """``amount`` to the penny, half up (also used for scores shown to 2 places)."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def pennies_half_up(amount: Fraction) -> int:
    """An exact amount of pounds as whole pennies, half up."""
    return math.floor(amount * 100 + Fraction(1, 2))


def from_pennies(pennies: int) -> Decimal:
    """Whole pennies as pounds to the penny."""
    return (Decimal(pennies) / 100).quantize(PENNY)


def financial_year_of(day: date) -> int:
    """Financial year of a day: 2025 means 1 April 2025 to 31 March 2026."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_start(financial_year: int) -> date:
    """First day (1 April) of a financial year."""
    return date(financial_year, 4, 1)


def financial_year_end(financial_year: int) -> date:
    """Last day (31 March) of a financial year."""
    return date(financial_year + 1, 3, 31)


def financial_year_bounds(financial_year: int) -> tuple[date, date]:
    """First and last day of a financial year."""
    return financial_year_start(financial_year), financial_year_end(financial_year)


def financial_year_label(financial_year: int, separator: str = "-") -> str:
    """Council-style label: 2025 -> '2025-26' (or '2025/26' with ``separator='/'``)."""
    return f"{financial_year}{separator}{(financial_year + 1) % 100:02d}"


def days_in_financial_year(financial_year: int) -> int:
    """365, or 366 when the year holds 29 February."""
    return (financial_year_end(financial_year) - financial_year_start(financial_year)).days + 1
