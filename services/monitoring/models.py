"""Tables of the monitoring service (its own database only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.infra_models import utcnow


class MonitoringModel(SQLModel, registry=registry()):
    """Base of monitoring tables: a registry of their own, apart from other services."""


class ProviderProfile(MonitoringModel, table=True):
    """What monitoring knows of a provider, learned only from providers.v1 events."""

    __tablename__ = "provider_profile"

    provider_id: str = Field(primary_key=True, max_length=36)
    urn: int = Field(index=True)
    name: str = Field(max_length=200)
    status: str = Field(max_length=20)
    ofsted_judgement: str | None = Field(default=None, max_length=40)
    ofsted_inspected_on: datetime | None = None
    first_seen_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
