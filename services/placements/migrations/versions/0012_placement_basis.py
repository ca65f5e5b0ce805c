"""placement legal basis: every placement (and its spend ledger lines) records the legal
basis it was bought on, and the reference justifying a direct award; existing rows are
backfilled from their source (dps_award: dps_call_off, block_contract: block_contract,
spot: off_contract_spot)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What each source implies when no basis was recorded (domain.DEFAULT_BASIS, frozen here:
# a migration never follows later code).
_BACKFILL = (
    ("dps_award", "dps_call_off"),
    ("block_contract", "block_contract"),
    ("spot", "off_contract_spot"),
)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _backfill(table: str) -> None:
    rows = sa.table(table, sa.column("source", sa.String), sa.column("basis", sa.String))
    for source, basis in _BACKFILL:
        op.execute(rows.update().where(rows.c.source == source).values(basis=basis))


def upgrade() -> None:
    # Added with a server default so existing rows satisfy NOT NULL, then set from source.
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("basis", _text(30), nullable=False, server_default="off_contract_spot")
        )
        batch_op.add_column(sa.Column("basis_reference", _text(100), nullable=True))
        batch_op.create_index(batch_op.f("ix_placement_basis"), ["basis"], unique=False)
    with op.batch_alter_table("spend_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("basis", _text(30), nullable=False, server_default="off_contract_spot")
        )
    _backfill("placement")
    _backfill("spend_ledger")


def downgrade() -> None:
    with op.batch_alter_table("spend_ledger", schema=None) as batch_op:
        batch_op.drop_column("basis")
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_basis"))
        batch_op.drop_column("basis_reference")
        batch_op.drop_column("basis")
