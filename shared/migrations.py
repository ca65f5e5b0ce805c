"""Helpers each service's Alembic `env.py` and first revision share.

The infrastructure tables (outbox, inbox, dead_letter, audit_log) are the same in every
service database, so their creation is written once here.
"""

from __future__ import annotations

import re
import uuid

from alembic import context
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    engine_from_config,
    pool,
    text,
)

from shared.infra_models import infra_registry


def run_migrations(service_metadata: MetaData) -> None:
    """The body of a service's env.py: online migrations against sqlalchemy.url."""
    config = context.config
    target = [infra_registry.metadata, service_metadata]
    connectable = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        lock_migrations(connection)
        context.configure(
            connection=connection,
            target_metadata=target,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


# One key for "migrating this database": every service has its own database, so the same
# number never makes two services wait for each other. (Any 64-bit integer will do.)
MIGRATION_LOCK_KEY = 0x0D75_0001


def lock_migrations(connection: Connection) -> None:
    """On PostgreSQL, wait for the migration lock before looking at the schema.

    Several replicas starting on a fresh database otherwise all find no alembic_version
    and all create the same tables: every one but the first crashes. The lock belongs to
    the session (it outlives the commit below, which leaves Alembic its own transaction)
    and is released when the connection closes, even if the migration fails. SQLite is
    one process's file: nothing to lock.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()


def create_infra_tables_v1() -> None:
    """Revision 1 of the infrastructure tables; called from each service's first revision.

    Written out (not derived from the models) so that later model changes never alter
    what an old revision did.
    """
    import sqlalchemy as sa
    from alembic import op

    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbox",
        sa.Column("seq", big_id, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_outbox_event_id", "outbox", ["event_id"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "seq"])
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("event_id", sa.String(100), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_dead_letter_topic", "dead_letter", ["topic"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("action", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity_id", "audit_log", ["entity_id"])


def drop_infra_tables_v1() -> None:
    from alembic import op

    for table in ("audit_log", "dead_letter", "inbox", "outbox"):
        op.drop_table(table)


def create_outbox_key_index_v2() -> None:
    """Outbox rows by key (subject) in order: the API's event history of one subject."""
    from alembic import op

    op.create_index("ix_outbox_key", "outbox", ["key", "seq"])


def drop_outbox_key_index_v2() -> None:
    from alembic import op

    op.drop_index("ix_outbox_key", table_name="outbox")


def add_dead_letter_redacted_v3() -> None:
    """When a dead letter's payload was redacted (after its retention period)."""
    import sqlalchemy as sa
    from alembic import op

    with op.batch_alter_table("dead_letter") as batch:
        batch.add_column(sa.Column("payload_redacted_at", sa.DateTime(timezone=True)))


def drop_dead_letter_redacted_v3() -> None:
    from alembic import op

    with op.batch_alter_table("dead_letter") as batch:
        batch.drop_column("payload_redacted_at")


def create_lease_table_v3() -> None:
    """Leases: one replica per service runs the relay and the periodic jobs."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "lease",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_lease_table_v3() -> None:
    from alembic import op

    op.drop_table("lease")


_AUDIT_REFUSE_SQLITE = """
CREATE TRIGGER audit_log_no_{verb} BEFORE {verb} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {verb} refused'); END
"""
_AUDIT_REFUSE_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
_AUDIT_REFUSE_PG = (
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def create_audit_chain_v4() -> None:
    """The audit log becomes a hash chain the database will not let anyone rewrite.

    Adds the child pseudonym, `seq`, `prev_hash` and `row_hash`; links the rows already
    there in `id` order (shared.audit.canonical_v1, frozen); then installs triggers that
    refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the table.
    """
    import sqlalchemy as sa
    from alembic import op

    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("child_ref", sa.String(100), nullable=True))
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
    _link_existing_audit_rows()
    with op.batch_alter_table("audit_log") as batch:
        for name in ("seq", "prev_hash", "row_hash"):
            batch.alter_column(name, nullable=False)
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    op.create_index("ix_audit_log_child_ref", "audit_log", ["child_ref"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(_AUDIT_REFUSE_PG_FUNCTION)
        for statement in _AUDIT_REFUSE_PG:
            op.execute(statement)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(_AUDIT_REFUSE_SQLITE.format(verb=verb))


def _link_existing_audit_rows() -> None:
    import sqlalchemy as sa
    from alembic import op

    from shared.audit import GENESIS, row_hash
    from shared.infra_models import AuditEntry

    bind = op.get_bind()
    text_columns = ("actor", "role", "action", "entity", "entity_id", "correlation_id")
    table = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("details", sa.JSON()),
        *(sa.column(name, sa.String()) for name in text_columns),
        sa.column("seq", sa.BigInteger()),
        sa.column("prev_hash", sa.String()),
        sa.column("row_hash", sa.String()),
    )
    read = ("id", "at", "details", *text_columns)
    rows = list(bind.execute(sa.select(*(table.c[n] for n in read)).order_by(table.c.id)))
    last = GENESIS
    for seq, row in enumerate(rows, start=1):
        entry = AuditEntry(**row._asdict(), seq=seq, prev_hash=last)
        last = row_hash(entry)
        bind.execute(
            table.update()
            .where(table.c.id == row.id)
            .values(seq=seq, prev_hash=entry.prev_hash, row_hash=last)
        )


def drop_audit_chain_v4() -> None:
    from alembic import op

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_UPDATE")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_DELETE")
    op.drop_index("ix_audit_log_child_ref", table_name="audit_log")
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        for name in ("row_hash", "prev_hash", "seq", "child_ref"):
            batch.drop_column(name)


def create_idempotency_table_v4() -> None:
    """Idempotency keys of POSTs and the answers they got (shared.idempotency)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "idempotency_key",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])


def drop_idempotency_table_v4() -> None:
    from alembic import op

    op.drop_table("idempotency_key")


def add_idempotency_committed_at_v5() -> None:
    """When a keyed POST's change was committed (shared.idempotency): a retry after a
    crash between the commit and the stored answer is not carried out again."""
    import sqlalchemy as sa
    from alembic import op

    with op.batch_alter_table("idempotency_key") as batch:
        batch.add_column(sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True))


def drop_idempotency_committed_at_v5() -> None:
    from alembic import op

    with op.batch_alter_table("idempotency_key") as batch:
        batch.drop_column("committed_at")


# --- a version the database raises on every change to a table ------------------------
#
# A read answered before can be answered again while the version it was kept under is
# still the table's (provider search pages, the alert inbox). On PostgreSQL a deferred
# constraint trigger raises it as the changing transaction commits: the version row's
# lock is then held only while that transaction commits (it waits for nothing else, so
# no deadlock), and a reader that sees the new version also sees the change. SQLite has
# one writer at a time, so plain row triggers do. A migration that later rebuilds the
# table on SQLite (batch_alter_table copies it) drops its triggers and must make them
# again.

_VERBS = ("INSERT", "UPDATE", "DELETE")


def create_version_table(version_table: str) -> None:
    """The one row (`id` 1, a fresh `epoch`, `version` 0) the triggers raise."""
    from alembic import op

    table = op.create_table(
        version_table,
        Column("id", Integer(), primary_key=True, autoincrement=False),
        Column("epoch", String(32), nullable=False),
        Column("version", BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": uuid.uuid4().hex, "version": 0}])


def _identifiers(*names: str) -> None:
    """Table names go into DDL as written: only plain lower-case identifiers."""
    for name in names:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"not a plain table name: {name!r}")


def create_version_triggers(table: str, version_table: str) -> None:
    """Raise `version_table`'s version on every insert, update or delete of `table`."""
    from alembic import op

    _identifiers(table, version_table)
    raise_version = f"UPDATE {version_table} SET version = version + 1"  # nosec B608: checked
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {version_table}_raise() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    {raise_version};\n    RETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_raises_{version_table} "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION {version_table}_raise()"
        )
    else:
        for verb in _VERBS:
            op.execute(
                f"CREATE TRIGGER {table}_{verb.lower()}_raises_{version_table} AFTER {verb} "
                f"ON {table} BEGIN {raise_version}; END"
            )


def drop_version_triggers(table: str, version_table: str) -> None:
    from alembic import op

    _identifiers(table, version_table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_raises_{version_table} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {version_table}_raise()")
    else:
        for verb in _VERBS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{verb.lower()}_raises_{version_table}")
