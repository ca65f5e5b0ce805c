"""history status changes recommendations notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:11:51.510726
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # server_default '' on the new search columns lets rows from 0001 stay valid; they
    # are filled in the next time the provider is written.
    op.create_table('document_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_id', 'kind', 'expires_on')
    )
    with op.batch_alter_table('document_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_notice_provider_id'), ['provider_id'], unique=False)

    op.create_table('suspension_recommendation',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('alert_ids', sa.JSON(), nullable=False),
    sa.Column('evidence_refs', sa.JSON(), nullable=False),
    sa.Column('recommended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suspension_recommendation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspension_recommendation_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspension_recommendation_status'), ['status'], unique=False)

    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('inspection', sa.JSON(), nullable=False),
    sa.Column('declined', sa.Boolean(), nullable=False),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_provider_id'), ['provider_id'], unique=False)

    op.create_table('status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('previous_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('recommendation_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_change_provider_id'), ['provider_id'], unique=False)

    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('need_codes', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('attendance_codes', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('judgement_rank', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('next_document_expiry', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_provider_judgement_rank'), ['judgement_rank'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_next_document_expiry'), ['next_document_expiry'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_next_document_expiry'))
        batch_op.drop_index(batch_op.f('ix_provider_judgement_rank'))
        batch_op.drop_column('next_document_expiry')
        batch_op.drop_column('judgement_rank')
        batch_op.drop_column('attendance_codes')
        batch_op.drop_column('need_codes')

    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_change_provider_id'))

    op.drop_table('status_change')
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_provider_id'))

    op.drop_table('inspection')
    with op.batch_alter_table('suspension_recommendation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspension_recommendation_status'))
        batch_op.drop_index(batch_op.f('ix_suspension_recommendation_provider_id'))

    op.drop_table('suspension_recommendation')
    with op.batch_alter_table('document_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_notice_provider_id'))

    op.drop_table('document_notice')
    # ### end Alembic commands ###
