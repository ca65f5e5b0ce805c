"""provider search: an index on location covering the distance search's candidates

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_provider_location",
        "provider",
        ["latitude", "longitude", "need_codes", "status", "name", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_provider_location", table_name="provider")
