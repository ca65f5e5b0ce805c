"""Alembic environment of monitoring: its own tables plus the shared outbox/inbox/audit ones."""

from services.monitoring import models
from shared.migrations import run_migrations

run_migrations(models.MonitoringModel.metadata)
