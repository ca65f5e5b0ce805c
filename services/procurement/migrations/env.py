"""Alembic environment of procurement: its own tables plus the shared outbox/inbox/audit ones."""

from services.procurement import models
from shared.migrations import run_migrations

run_migrations(models.ProcurementModel.metadata)
