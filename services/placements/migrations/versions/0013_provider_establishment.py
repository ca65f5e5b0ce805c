"""provider establishment facts for the SEN2 return: the URN and type of each provider,
learnt from providers.v1 beside its name

Revision ID: 0013
Revises: 0012 (0011 on a tree without 0012)
Create Date: 2026-12-06 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
# 0012 is written on another branch at the same time; this revision follows it when it is
# there and 0011 until then, so both trees migrate in a single line of revisions.
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_name") as batch:
        batch.add_column(sa.Column("urn", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "provider_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_name") as batch:
        batch.drop_column("provider_type")
        batch.drop_column("urn")
