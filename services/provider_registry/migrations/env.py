"""Alembic environment of provider_registry: its own tables plus the shared outbox/inbox/audit ones."""

from services.provider_registry import models
from shared.migrations import run_migrations

run_migrations(models.RegistryModel.metadata)
