"""children's data: need retention clock, phase-transfer deadline, dead-letter redaction

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import add_dead_letter_redacted_v3, drop_dead_letter_redacted_v3

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("placement_need") as batch:
        batch.add_column(sa.Column("phase_transfer_deadline", sa.Date()))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True)))
        batch.alter_column("postcode_district", existing_type=sa.String(4), nullable=True)
    with op.batch_alter_table("child_plan") as batch:
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("placement") as batch:
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True)))
    add_dead_letter_redacted_v3()


def downgrade() -> None:
    drop_dead_letter_redacted_v3()
    with op.batch_alter_table("placement") as batch:
        batch.drop_column("pseudonymised_at")
    with op.batch_alter_table("child_plan") as batch:
        batch.drop_column("pseudonymised_at")
    with op.batch_alter_table("placement_need") as batch:
        batch.alter_column("postcode_district", existing_type=sa.String(4), nullable=False)
        batch.drop_column("pseudonymised_at")
        batch.drop_column("closed_at")
        batch.drop_column("phase_transfer_deadline")
