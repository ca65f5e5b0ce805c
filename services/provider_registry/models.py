"""Tables of the provider register (its own database only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.infra_models import utcnow


class RegistryModel(SQLModel, registry=registry()):
    """Base of provider_registry tables: a registry of their own, apart from other services."""


class ProviderRow(RegistryModel, table=True):
    """One provider. Searchable facts are columns; the full details are kept as JSON."""

    __tablename__ = "provider"

    id: str = Field(primary_key=True, max_length=36)
    urn: int = Field(unique=True, index=True)
    name: str = Field(max_length=200)
    status: str = Field(max_length=20, index=True)
    postcode: str = Field(max_length=10)
    postcode_district: str = Field(max_length=5, index=True)
    latitude: float | None = None
    longitude: float | None = None
    age_low: int
    age_high: int
    capacity: int
    places_in_use: int
    need_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attendance: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    latest_inspection: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
