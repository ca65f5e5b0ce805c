"""The base of procurement tables, column helpers, and small value converters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.infra_models import AwareDateTime


class ProcurementModel(SQLModel, registry=registry()):
    """Base of procurement tables: a registry of their own, apart from other services."""


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(AwareDateTime(), nullable=nullable, index=index),
    )


def _json(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def _dec_or_none(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def _str_or_none(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _iso_or_none(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


def _date_or_none(v: str | None) -> date | None:
    return None if v is None else date.fromisoformat(v)
