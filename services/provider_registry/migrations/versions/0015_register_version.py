"""provider search: the register's version, raised by the database on every change to a
provider row, so a search page answered before can be answered again while it holds

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:00:00

On PostgreSQL the version is raised by a deferred constraint trigger, that is as the
changing transaction commits: the row's lock is then held only while that transaction
commits (it waits for nothing else, so no deadlock), and a reader that sees the new
version also sees the change. SQLite has one writer at a time, so plain row triggers do.

A later migration that rebuilds the provider table on SQLite (batch_alter_table copies
it) drops its triggers: it must make them again (`create_triggers`), and
tests/service/provider_registry/test_search_pages.py fails if it does not.
"""

from collections.abc import Sequence

from alembic import op

from shared.migrations import (
    create_version_table,
    create_version_triggers,
    drop_version_triggers,
)

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def create_triggers() -> None:
    create_version_triggers("provider", "register_version")


def drop_triggers() -> None:
    drop_version_triggers("provider", "register_version")


def upgrade() -> None:
    create_version_table("register_version")
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("register_version")
