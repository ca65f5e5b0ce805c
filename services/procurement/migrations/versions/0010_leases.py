"""leases: one replica per service runs the outbox relay and the periodic jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

from shared.migrations import create_lease_table_v3, drop_lease_table_v3

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_lease_table_v3()


def downgrade() -> None:
    drop_lease_table_v3()
