"""audit chain: the audit log hash-chained, with the child pseudonym; UPDATE/DELETE refused

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:45:00
"""

from collections.abc import Sequence

from shared.migrations import create_audit_chain_v4, drop_audit_chain_v4

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_chain_v4()


def downgrade() -> None:
    drop_audit_chain_v4()
