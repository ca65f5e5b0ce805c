"""idempotency keys: when the keyed request's change was committed, so a retry after a
crash between the commit and the stored answer is never carried out again

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

from shared.migrations import add_idempotency_committed_at_v5, drop_idempotency_committed_at_v5

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_idempotency_committed_at_v5()


def downgrade() -> None:
    drop_idempotency_committed_at_v5()
