"""statutory clocks: alert rules for notices, self-declarations, review dates, phase transfers

Adds the default rules that turn procurement's and placements' statutory-clock events into
alerts (issue 12): a DPS application not decided in time (reg 34(15)-(16)), a notice not published when due (PCR 2015 reg 50, 34(27)-(28)), a renewed
self-declaration not given within 5 working days (reg 34(25)), a council's review date more
than 12 months after the last review (CFA 2014 s.44), and a phase-transfer call-off that
cannot finish before the school must be named (SEND Regulations 2014 reg 18). Spend lines
say whether they are a placement or a block's unfilled places (not counted as placements).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the rules this revision adds (domain.STATUTORY_CLOCK_RULES as shipped).
NEW_DEFAULT_RULES: list[dict[str, object]] = [{'rule_id': 'application-decision-overdue',
  'version': 1,
  'title': 'DPS application not decided within its statutory period',
  'watches': 'application_overdue',
  'condition': 'days_overdue >= 0',
  'severity': 'warning',
  'target': 'provider',
  'cause_template': 'application:{application_id}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'Public Contracts Regulations 2015 reg 34(15)-(16): a request to participate '
            'is evaluated within 10 working days, extendable to 15 with a recorded '
            'reason.'},
 {'rule_id': 'review-date-beyond-statutory-limit',
  'version': 1,
  'title': 'Annual review set later than 12 months after the last review',
  'watches': 'review_scheduled',
  'condition': 'beyond_statutory_limit',
  'severity': 'warning',
  'target': 'placement',
  'cause_template': 'review-limit:{due_on}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'Children and Families Act 2014 s.44(1): the EHC plan is reviewed at least '
            'every 12 months, counted from the review last held (or the plan first made).'},
 {'rule_id': 'self-declaration-overdue',
  'version': 1,
  'title': 'Renewed self-declaration not given within 5 working days',
  'watches': 'self_declaration_overdue',
  'condition': 'True',
  'severity': 'warning',
  'target': 'provider',
  'cause_template': 'self-declaration:{request_id}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'Public Contracts Regulations 2015 reg 34(25): a member may be asked at any '
            'time for a renewed self-declaration, to be given within 5 working days.'},
 {'rule_id': 'notice-overdue',
  'version': 1,
  'title': 'Statutory notice not published by its due date',
  'watches': 'notice_overdue',
  'condition': 'True',
  'severity': 'warning',
  'target': 'scheme',
  'cause_template': 'notice:{notice_id}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'Public Contracts Regulations 2015 reg 50 (contract award notices within 30 '
            'days, or grouped quarterly for DPS call-offs) and reg 34(27)-(28) (change of '
            'the DPS period).'},
 {'rule_id': 'phase-transfer-deadline-at-risk',
  'version': 1,
  'title': 'Call-off cannot finish before the school must be named (phase transfer)',
  'watches': 'call_off_deadline_at_risk',
  'condition': 'days_late > 0',
  'severity': 'critical',
  'target': 'placement',
  'cause_template': 'phase-transfer:{competition_id}',
  'enabled': True,
  'changed_by': 'system',
  'source': 'SEND Regulations 2014 reg 18: on a phase transfer the school is named in the '
            'EHC plan by 15 February (31 March for a transfer to post-16 education).'}]


def upgrade() -> None:
    with op.batch_alter_table("spend_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("line", sa.String(length=30), nullable=False, server_default="placement")
        )
    rules = sa.table("alert_rule_version", *(sa.column(name) for name in NEW_DEFAULT_RULES[0]))
    op.bulk_insert(rules, NEW_DEFAULT_RULES)


def downgrade() -> None:
    rules = sa.table("alert_rule_version", sa.column("rule_id"))
    ids = [rule["rule_id"] for rule in NEW_DEFAULT_RULES]
    op.execute(rules.delete().where(rules.c.rule_id.in_(ids)))
    with op.batch_alter_table("spend_line", schema=None) as batch_op:
        batch_op.drop_column("line")
