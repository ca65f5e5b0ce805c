"""the officers' alert inbox: an index on (status, raised_at)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_alert_status_raised_at", "alert", ["status", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_status_raised_at", table_name="alert")
