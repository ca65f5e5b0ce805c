"""Tables of the placements service (its own database only)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class PlacementsModel(SQLModel, registry=registry()):
    """Base of placements tables: a registry of their own, apart from other services."""
