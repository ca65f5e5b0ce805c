"""initial

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 01:04:33.635066
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from shared.migrations import create_infra_tables_v1, drop_infra_tables_v1


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_infra_tables_v1()
    op.create_table('provider_profile',
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('urn', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ofsted_judgement', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('ofsted_inspected_on', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('provider_id')
    )
    with op.batch_alter_table('provider_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_profile_urn'), ['urn'], unique=False)



def downgrade() -> None:
    drop_infra_tables_v1()
    with op.batch_alter_table('provider_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_profile_urn'))

    op.drop_table('provider_profile')
