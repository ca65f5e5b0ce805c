"""initial

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 01:04:32.125140
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
    op.create_table('provider',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('urn', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('postcode_district', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('age_low', sa.Integer(), nullable=False),
    sa.Column('age_high', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('places_in_use', sa.Integer(), nullable=False),
    sa.Column('need_types', sa.JSON(), nullable=False),
    sa.Column('attendance', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('latest_inspection', sa.JSON(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_postcode_district'), ['postcode_district'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_urn'), ['urn'], unique=True)



def downgrade() -> None:
    drop_infra_tables_v1()
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_urn'))
        batch_op.drop_index(batch_op.f('ix_provider_status'))
        batch_op.drop_index(batch_op.f('ix_provider_postcode_district'))

    op.drop_table('provider')
