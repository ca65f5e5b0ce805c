"""money and reviews: one-off charges, block priced items and weeks, ledger lines and
adjustments, statutory review limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("placement_fee_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("one_off", sa.JSON(), nullable=True))

    with op.batch_alter_table("block_contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("one_off", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("weeks_per_year", sa.Integer(), nullable=True))

    with op.batch_alter_table("spend_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "line",
                sqlmodel.sql.sqltypes.AutoString(length=30),
                nullable=False,
                server_default="placement",
            )
        )
        batch_op.add_column(sa.Column("adjustment", sa.Numeric(14, 2), nullable=True))

    with op.batch_alter_table("placement_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statutory_latest", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("placement_review", schema=None) as batch_op:
        batch_op.drop_column("statutory_latest")

    with op.batch_alter_table("spend_ledger", schema=None) as batch_op:
        batch_op.drop_column("adjustment")
        batch_op.drop_column("line")

    with op.batch_alter_table("block_contract", schema=None) as batch_op:
        batch_op.drop_column("weeks_per_year")
        batch_op.drop_column("one_off")
        batch_op.drop_column("support")

    with op.batch_alter_table("placement_fee_change", schema=None) as batch_op:
        batch_op.drop_column("one_off")
