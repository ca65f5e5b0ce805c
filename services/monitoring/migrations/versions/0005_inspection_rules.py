"""safety: alert rules carry their source; safeguarding and standards not met alert

Adds `alert_rule_version.source` (the law or guidance a rule applies) and the two default
rules that read an inspection's safeguarding and Independent School Standards outcomes
whatever its other grades (issue 12 part 1; see docs/law/safety.md). The Ofsted rules
shipped in 0002 get their source too (a new column on their rows, nothing else changed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the rules this revision adds (domain.DEFAULT_RULES as shipped with it).
NEW_DEFAULT_RULES: list[dict[str, object]] = [{'rule_id': 'inspection-safeguarding-not-met',
  'version': 1,
  'title': 'Inspection: safeguarding not met',
  'watches': 'ofsted_inspection',
  'condition': 'safeguarding_met == False',
  'severity': 'critical',
  'target': 'provider',
  'cause_template': 'inspection:{inspected_on}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'Ofsted, School inspection handbook (September 2023/2024): ineffective '
            'safeguarding makes leadership and management, and overall effectiveness, '
            'inadequate; Ofsted renewed education inspection framework (November 2025): '
            'safeguarding met / not met, not met places the school in a category of concern.'},
 {'rule_id': 'independent-school-standards-not-met',
  'version': 1,
  'title': 'Inspection: Independent School Standards not met',
  'watches': 'ofsted_inspection',
  'condition': 'standards_met == False',
  'severity': 'warning',
  'target': 'provider',
  'cause_template': 'inspection:{inspected_on}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'Education (Independent School Standards) Regulations 2014 (SI 2014/3283), '
            'enforced under the Education and Skills Act 2008 ss.114-116; Ofsted, '
            'Non-association independent school inspection handbook (standards met / not '
            'met).'}]

OFSTED_SOURCE = (
    "Ofsted, School inspection handbook (four-point judgements, to 2025) and report card "
    "grades (renewed education inspection framework, November 2025)."
)


def upgrade() -> None:
    with op.batch_alter_table("alert_rule_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True)
        )
    rules = sa.table(
        "alert_rule_version", *(sa.column(name) for name in NEW_DEFAULT_RULES[0])
    )
    op.bulk_insert(rules, NEW_DEFAULT_RULES)
    source = sa.table("alert_rule_version", sa.column("rule_id"), sa.column("source"))
    op.execute(
        source.update()
        .where(source.c.rule_id.in_(("ofsted-requires-improvement", "ofsted-inadequate")))
        .values(source=OFSTED_SOURCE)
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM alert_rule_version WHERE rule_id IN "
        "('inspection-safeguarding-not-met', 'independent-school-standards-not-met')"
    )
    with op.batch_alter_table("alert_rule_version", schema=None) as batch_op:
        batch_op.drop_column("source")
