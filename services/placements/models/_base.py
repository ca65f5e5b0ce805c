"""The base of placements tables and the JSON forms of priced items shared by several tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Numeric
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.placements import domain


class PlacementsModel(SQLModel, registry=registry()):
    """Base of placements tables: a registry of their own, apart from other services."""


def _money(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(Numeric(14, 2), nullable=nullable))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


def _support_out(items: tuple[domain.SupportItem, ...] | None) -> list[dict[str, str]] | None:
    if items is None:
        return None
    return [{"description": i.description, "weekly_amount": str(i.weekly_amount)} for i in items]


def _support_in(items: list[dict[str, str]] | None) -> tuple[domain.SupportItem, ...] | None:
    if items is None:
        return None
    return tuple(domain.SupportItem(i["description"], Decimal(i["weekly_amount"])) for i in items)


def one_off_out(items: tuple[domain.OneOffCharge, ...]) -> list[dict[str, str]] | None:
    return [{"description": c.description, "amount": str(c.amount)} for c in items] or None


def one_off_in(items: list[dict[str, str]] | None) -> tuple[domain.OneOffCharge, ...]:
    return tuple(domain.OneOffCharge(i["description"], Decimal(i["amount"])) for i in items or ())
