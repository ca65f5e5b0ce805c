"""Request bodies refuse what the database cannot store, naming the field (a 422)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from shared.api_types import RequestBody


class Item(RequestBody):
    note: str = ""


class Body(RequestBody):
    count: int = 0
    fee: Decimal = Decimal(0)
    on: date = date(2026, 9, 1)
    name: str = "x"
    tags: list[str] = []
    items: list[Item] = []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", 2**70),
        ("count", -(2**63) - 1),
        ("fee", "1e30"),
        ("on", "9999-12-31"),
        ("on", "0001-01-01"),
        ("name", "a\x00b"),
        ("tags", ["ok", "a\x00b"]),
    ],
)
def test_an_unstorable_value_is_refused_naming_its_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({field: value})
    assert caught.value.errors()[0]["loc"][0] == field


def test_a_nested_body_checks_its_own_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"items": [{"note": "\x00"}]})
    assert caught.value.errors()[0]["loc"] == ("items", 0, "note")


def test_values_at_the_bounds_are_accepted() -> None:
    body = Body.model_validate(
        {"count": 2**63 - 1, "fee": "999999999999.99", "on": "2200-12-31", "name": "ok"}
    )
    assert body.count == 2**63 - 1
    assert isinstance(Body(), BaseModel)
