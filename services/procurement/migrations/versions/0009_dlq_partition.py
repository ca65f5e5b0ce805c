"""CloudEvents binding: a dead letter keeps its record's headers; an outbox row may name
its partition (a retried dead letter goes back to the partition it came from)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("partition", sa.Integer(), nullable=True))
    op.add_column("dead_letter", sa.Column("headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dead_letter") as batch:
        batch.drop_column("headers")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("partition")
