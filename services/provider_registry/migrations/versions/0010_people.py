"""people: self-registration, membership and invitations (issue 15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString
_time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "registration",
        sa.Column("id", _text(length=36), nullable=False),
        sa.Column("kind", _text(length=10), nullable=False),
        sa.Column("subject", _text(length=200), nullable=False),
        sa.Column("person_name", _text(length=200), nullable=False),
        sa.Column("person_email", _text(length=200), nullable=False),
        sa.Column("urn", sa.Integer(), nullable=True),
        sa.Column("provider_id", _text(length=36), nullable=True),
        sa.Column("provider_name", _text(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", _text(length=10), nullable=False),
        sa.Column("submitted_at", _time(), nullable=False),
        sa.Column("decided_by", _text(length=200), nullable=True),
        sa.Column("decided_at", _time(), nullable=True),
        sa.Column("reason", _text(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registration", schema=None) as batch_op:
        for column in ("subject", "urn", "provider_id", "status"):
            batch_op.create_index(batch_op.f(f"ix_registration_{column}"), [column], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", _text(length=200), nullable=False),
        sa.Column("provider_id", _text(length=36), nullable=False),
        sa.Column("role", _text(length=20), nullable=False),
        sa.Column("status", _text(length=10), nullable=False),
        sa.Column("name", _text(length=200), nullable=False),
        sa.Column("email", _text(length=200), nullable=False),
        sa.Column("joined_at", _time(), nullable=False),
        sa.Column("registration_id", _text(length=36), nullable=True),
        sa.Column("invited_by", _text(length=200), nullable=True),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject", "provider_id"),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_subject"), ["subject"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_membership_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "invitation",
        sa.Column("id", _text(length=36), nullable=False),
        sa.Column("code_sha256", _text(length=64), nullable=False),
        sa.Column("provider_id", _text(length=36), nullable=False),
        sa.Column("name", _text(length=200), nullable=False),
        sa.Column("email", _text(length=200), nullable=False),
        sa.Column("role", _text(length=20), nullable=False),
        sa.Column("invited_by", _text(length=200), nullable=False),
        sa.Column("invited_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("accepted_by", _text(length=200), nullable=True),
        sa.Column("accepted_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(["provider_id"], ["provider.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_code_sha256"), ["code_sha256"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_invitation_provider_id"), ["provider_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("invitation")
    op.drop_table("membership")
    op.drop_table("registration")
