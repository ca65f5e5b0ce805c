"""What an API accepts at its edge, so hostile input is a 422 and never reaches the database.

Every request body of every service derives from `RequestBody`: each field (and every
value nested in it) is checked against the bounds the storage can hold, whatever the
field's own type says. Query and path parameters use the constrained types below.

- Integers: 64-bit signed (PostgreSQL bigint; SQLite INTEGER is the same size).
- Money: at most 2 decimal places and 12 whole digits (the money columns are
  Numeric(14, 2); a bigger amount is no real fee or budget).
- Dates: 1900-01-01 to 2200-12-31. Date arithmetic (terms of years, notice periods,
  review cycles) runs far past the input, and date.max + a day overflows.
- Text: no NUL byte (PostgreSQL refuses U+0000 in text).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
MONEY_MAX = Decimal("999999999999.99")  # Numeric(14, 2)
MONEY_PLACES = 2
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2200, 12, 31)

BoundedInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
Offset = Annotated[int, Field(ge=0, le=INT_MAX)]
Money = Annotated[
    Decimal, Field(ge=-MONEY_MAX, le=MONEY_MAX, decimal_places=MONEY_PLACES, allow_inf_nan=False)
]
ApiDate = Annotated[date, Field(ge=DATE_MIN, le=DATE_MAX)]


def out_of_bounds(value: Any) -> str | None:
    """Why `value` (or anything nested in it) cannot be stored, or None if it can."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT_MIN <= value <= INT_MAX else "must fit in a 64-bit integer"
    if isinstance(value, float):
        return None if abs(value) <= float(MONEY_MAX) else f"must be at most {MONEY_MAX}"
    if isinstance(value, Decimal):
        return _decimal_problem(value)
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if DATE_MIN <= day <= DATE_MAX:
            return None
        return f"must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}"
    if isinstance(value, str):
        return "must not contain a NUL character" if "\x00" in value else None
    return _nested_problem(value)


def _decimal_problem(value: Decimal) -> str | None:
    if not value.is_finite():
        return "must be a finite number"
    # Places are each field's own rule (percentages and scores have more than money).
    return f"must be at most {MONEY_MAX}" if abs(value) > MONEY_MAX else None


def _nested_problem(value: Any) -> str | None:
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        return None  # nested models check their own fields
    return next((p for p in map(out_of_bounds, items) if p is not None), None)


class RequestBody(BaseModel):
    """Base of every request body: no field holds what the database cannot store."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        problem = out_of_bounds(value)
        if problem is not None:
            raise ValueError(problem)
        return value
