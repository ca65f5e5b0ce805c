"""idempotency keys: a POST made again with the same Idempotency-Key gets the first answer

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:45:00
"""

from collections.abc import Sequence

from shared.migrations import create_idempotency_table_v4, drop_idempotency_table_v4

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table_v4()


def downgrade() -> None:
    drop_idempotency_table_v4()
