"""Competition ids up to 64 characters

A call-off opened from a placement need is named `need-<need id>` (41 characters), which
PostgreSQL refused in the 36-character columns (SQLite does not check lengths).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ("competition", "id"),
    ("invitation", "competition_id"),
    ("bid", "competition_id"),
    ("evaluator_score", "competition_id"),
    ("evaluation", "competition_id"),
    ("award", "competition_id"),
    ("award_notice", "competition_id"),
]


def _resize(length_from: int, length_to: int) -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(length_from),
                type_=sa.String(length_to),
                existing_nullable=False,
            )


def upgrade() -> None:
    _resize(36, 64)


def downgrade() -> None:
    _resize(64, 36)
