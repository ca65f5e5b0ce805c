"""Alembic environment of placements: its own tables plus the shared outbox/inbox/audit ones."""

from services.placements import models
from shared.migrations import run_migrations

run_migrations(models.PlacementsModel.metadata)
