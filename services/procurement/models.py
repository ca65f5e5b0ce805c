"""Tables of the procurement service (its own database only)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class ProcurementModel(SQLModel, registry=registry()):
    """Base of procurement tables: a registry of their own, apart from other services."""
