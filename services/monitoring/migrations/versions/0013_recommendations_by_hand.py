"""suspension recommendations raised by hand: who raised one and the grounds cited

Rows from before this revision were all raised by monitoring's rules: no officer, no
grounds.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "suspension_recommendation", sa.Column("raised_by", sa.String(200), nullable=True)
    )
    op.add_column(
        "suspension_recommendation",
        sa.Column("grounds", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("suspension_recommendation") as batch:
        batch.drop_column("grounds")
        batch.drop_column("raised_by")
