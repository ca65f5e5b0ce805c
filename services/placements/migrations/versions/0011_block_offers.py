"""block place offers: a free block place is offered to the block's provider, who accepts
or declines it (with a reason) by an answer-by date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "block_offer",
        sa.Column("offer_id", _text(36), nullable=False),
        sa.Column("need_id", _text(36), nullable=False),
        sa.Column("block_contract_id", _text(36), nullable=False),
        sa.Column("place_number", sa.Integer(), nullable=False),
        sa.Column("provider_id", _text(64), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("offered_on", sa.Date(), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=False),
        sa.Column("decided_by", _text(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", _text(1000), nullable=True),
        sa.Column("placement_id", _text(36), nullable=True),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    with op.batch_alter_table("block_offer", schema=None) as batch_op:
        for column in ("need_id", "block_contract_id", "provider_id", "status"):
            batch_op.create_index(batch_op.f(f"ix_block_offer_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("block_offer", schema=None) as batch_op:
        for column in ("status", "provider_id", "block_contract_id", "need_id"):
            batch_op.drop_index(batch_op.f(f"ix_block_offer_{column}"))
    op.drop_table("block_offer")
