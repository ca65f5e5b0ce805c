"""initial

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 01:04:36.994820
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


def downgrade() -> None:
    drop_infra_tables_v1()
