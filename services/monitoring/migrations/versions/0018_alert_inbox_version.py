"""the alert inbox: the alerts' version, raised by the database on every change to an
alert row, so an inbox page answered before can be answered again while it holds

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:30:00

How the triggers raise it on each database: `shared.migrations.create_version_triggers`.
A later migration that rebuilds the alert table on SQLite (batch_alter_table copies it)
drops its triggers: it must make them again (`create_triggers`), and
tests/service/monitoring/test_alert_inbox.py fails if it does not.
"""

from collections.abc import Sequence

from alembic import op

from shared.migrations import (
    create_version_table,
    create_version_triggers,
    drop_version_triggers,
)

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def create_triggers() -> None:
    create_version_triggers("alert", "alert_inbox_version")


def drop_triggers() -> None:
    drop_version_triggers("alert", "alert_inbox_version")


def upgrade() -> None:
    create_version_table("alert_inbox_version")
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("alert_inbox_version")
