"""Procurement Act 2023 regimes: light touch schemes, open framework reopenings, and
direct awards (s.41, Schedule 5)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("light_touch", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("reopening_dates", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reopenings", sa.JSON(), nullable=True))
    op.create_table(
        "direct_award",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("ground", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("justification", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("scheme_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("need_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("contract_value", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("light_touch", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requires_transparency_notice", sa.Boolean(), nullable=False),
        sa.Column("requires_contract_award_notice", sa.Boolean(), nullable=False),
        sa.Column("standstill_applies", sa.Boolean(), nullable=False),
        sa.Column("standstill_mandatory", sa.Boolean(), nullable=False),
        sa.Column("standstill_working_days", sa.Integer(), nullable=True),
        sa.Column(
            "standstill_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False
        ),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("direct_award", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_direct_award_ground"), ["ground"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_direct_award_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_direct_award_scheme_id"), ["scheme_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("direct_award", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_direct_award_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_direct_award_provider_id"))
        batch_op.drop_index(batch_op.f("ix_direct_award_ground"))
    op.drop_table("direct_award")
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.drop_column("reopenings")
        batch_op.drop_column("reopening_dates")
        batch_op.drop_column("light_touch")
