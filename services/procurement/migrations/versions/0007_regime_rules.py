"""call-offs follow the regime: published narrowing, establishment date, award criteria,
recorded extensions and period-change notices on the scheme; self-declaration requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        # Existing schemes keep no tiers/screening until they say they published them.
        batch_op.add_column(
            sa.Column(
                "narrowing_published", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("established_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("award_criteria", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("extension_ends", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("extensions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("period_notices", sa.JSON(), nullable=True))
    op.create_table(
        "self_declaration_request",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("scheme_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declaration", sa.JSON(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("self_declaration_request", schema=None) as batch_op:
        for column in ("scheme_id", "provider_id", "due_at", "status"):
            batch_op.create_index(f"ix_self_declaration_request_{column}", [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("self_declaration_request", schema=None) as batch_op:
        for column in ("scheme_id", "provider_id", "due_at", "status"):
            batch_op.drop_index(f"ix_self_declaration_request_{column}")
    op.drop_table("self_declaration_request")
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        for column in (
            "period_notices",
            "extensions",
            "extension_ends",
            "award_criteria",
            "imported",
            "established_on",
            "narrowing_published",
        ):
            batch_op.drop_column(column)
