"""standstill on awards and schemes; notices tracked (due, sent, published, overdue)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:40:00

Every award notice already recorded is tracked as due (its due date kept); a later
kind of notice (e.g. a change of the DPS period) joins the same ``notice`` table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AWARD_NOTICE_RULE = "PCR 2015 reg 50 / reg 75: award notice within 30 days, or grouped quarterly"


def upgrade() -> None:
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "standstill_blocks_above_threshold",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )
    with op.batch_alter_table("award", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "contract_awaits_standstill",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(sa.Column("standstill_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("standstill_ended_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "notice",
        sa.Column("notice_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("scheme_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("competition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("sent_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "publication_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        for column in ("kind", "scheme_id", "competition_id", "due_on", "status"):
            batch_op.create_index(f"ix_notice_{column}", [column], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO notice (notice_id, kind, scheme_id, competition_id, due_on, rule, status)"
            " SELECT 'award-' || competition_id, 'award', scheme_id, competition_id, due_on,"
            " :rule, 'due' FROM award_notice"
        ).bindparams(rule=_AWARD_NOTICE_RULE)
    )


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        for column in ("kind", "scheme_id", "competition_id", "due_on", "status"):
            batch_op.drop_index(f"ix_notice_{column}")
    op.drop_table("notice")
    with op.batch_alter_table("award", schema=None) as batch_op:
        batch_op.drop_column("standstill_ended_at")
        batch_op.drop_column("standstill_ends_at")
        batch_op.drop_column("contract_awaits_standstill")
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.drop_column("standstill_blocks_above_threshold")
