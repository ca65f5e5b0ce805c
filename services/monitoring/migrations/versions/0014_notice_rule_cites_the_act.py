"""the notice-overdue rule cites the Procurement Act 2023 notices as well as PCR 2015's

Procurement now tracks the Act's notices (tender, dynamic market, transparency, contract
award, details, change and termination, procurement termination) and raises the same
``procurement.notice.overdue`` for them; the rule that turns it into an alert is
unchanged but its source named PCR 2015 only. Only the shipped version (1, by system)
is re-cited; a version a council changed keeps its own text.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (domain.SOURCE_NOTICES before and as shipped with this revision).
OLD_SOURCE = (
    "Public Contracts Regulations 2015 reg 50 (contract award notices within 30 days, or "
    "grouped quarterly for DPS call-offs) and reg 34(27)-(28) (change of the DPS period)."
)
NEW_SOURCE = (
    "Public Contracts Regulations 2015 reg 50 (contract award notices within 30 days, or "
    "grouped quarterly for DPS call-offs) and reg 34(27)-(28) (change of the DPS period); "
    "Procurement Act 2023 ss.21, 39, 44, 50, 53, 55, 75 and 80 with the Procurement "
    "Regulations 2024 (tender, dynamic market, transparency, contract award, contract "
    "details, procurement termination, contract change and contract termination notices). "
    "Each alert's evidence names the notice and the rule that set its due date."
)


def _set_source(source: str) -> None:
    rules = sa.table(
        "alert_rule_version",
        sa.column("rule_id"),
        sa.column("version"),
        sa.column("changed_by"),
        sa.column("source"),
    )
    op.execute(
        rules.update()
        .where(
            rules.c.rule_id == "notice-overdue",
            rules.c.version == 1,
            rules.c.changed_by == "system",
        )
        .values(source=source)
    )


def upgrade() -> None:
    _set_source(NEW_SOURCE)


def downgrade() -> None:
    _set_source(OLD_SOURCE)
