"""application drafts (save and come back); clarification requests on applications

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_draft",
        sa.Column("scheme_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("requested_categories", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"]),
        sa.PrimaryKeyConstraint("scheme_id", "provider_id"),
    )
    with op.batch_alter_table("application_draft", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_draft_provider_id"), ["provider_id"], unique=False
        )
    op.create_table(
        "application_clarification",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("application_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("reply_by_on", sa.Date(), nullable=False),
        sa.Column("asked_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("application_clarification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_clarification_application_id"),
            ["application_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("application_clarification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_clarification_application_id"))
    op.drop_table("application_clarification")
    with op.batch_alter_table("application_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_draft_provider_id"))
    op.drop_table("application_draft")
