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

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERBS = ("INSERT", "UPDATE", "DELETE")

_PG_FUNCTION = """
CREATE FUNCTION register_version_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_version SET version = version + 1;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = (
    "CREATE CONSTRAINT TRIGGER provider_raises_register_version "
    "AFTER INSERT OR UPDATE OR DELETE ON provider "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION register_version_raise()"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER provider_{verb}_raises_register_version AFTER {verb} ON provider "
    "BEGIN UPDATE register_version SET version = version + 1; END"
)


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for verb in _VERBS:
            op.execute(_SQLITE_TRIGGER.format(verb=verb.lower()))


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS provider_raises_register_version ON provider")
        op.execute("DROP FUNCTION IF EXISTS register_version_raise()")
    else:
        for verb in _VERBS:
            op.execute(f"DROP TRIGGER IF EXISTS provider_{verb.lower()}_raises_register_version")


def upgrade() -> None:
    table = op.create_table(
        "register_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": uuid.uuid4().hex, "version": 0}])
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("register_version")
