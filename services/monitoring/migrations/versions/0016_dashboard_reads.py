"""the dashboard's reads: spend_total (spend lines summed, filled from spend_line), an
index of unresolved alerts by severity and one of reviews not yet held

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spend_total",
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("primary_need", sa.String(length=10), nullable=False),
        sa.Column("on_contract", sa.Boolean(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("placements", sa.Integer(), nullable=False),
        sa.Column("pence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("financial_year", "primary_need", "on_contract"),
    )
    # The lines consumed so far, summed as services.monitoring.store.count_spend adds them
    # (each line rounded to whole pence first: SQLite keeps NUMERIC as a float).
    op.execute(
        """
        INSERT INTO spend_total
            (financial_year, primary_need, on_contract, lines, placements, pence)
        SELECT financial_year, primary_need, on_contract, COUNT(*),
               SUM(CASE WHEN line = 'placement' AND amount <> 0 THEN 1 ELSE 0 END),
               SUM(CAST(ROUND(amount * 100) AS BIGINT))
        FROM spend_line
        GROUP BY financial_year, primary_need, on_contract
        """
    )
    unresolved = sa.text("open_key IS NOT NULL")
    op.create_index(
        "ix_alert_open_severity",
        "alert",
        ["severity"],
        sqlite_where=unresolved,
        postgresql_where=unresolved,
    )
    pending = sa.text("review_completed_on IS NULL")
    op.create_index(
        "ix_placement_fact_review_pending",
        "placement_fact",
        ["review_due_on", "ends_on", "placement_id"],
        sqlite_where=pending,
        postgresql_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_placement_fact_review_pending", table_name="placement_fact")
    op.drop_index("ix_alert_open_severity", table_name="alert")
    op.drop_table("spend_total")
