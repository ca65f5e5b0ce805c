"""outbox rows by key, for a subject's event history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 05:10:00
"""

from collections.abc import Sequence

from shared.migrations import create_outbox_key_index_v2, drop_outbox_key_index_v2

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_key_index_v2()


def downgrade() -> None:
    drop_outbox_key_index_v2()
