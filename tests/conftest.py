"""Fixtures every test layer shares: real Tansu and Temporal processes, databases, tokens.

The broker and Temporal dev server are the same binaries `dps up` runs, started once per
session on free ports. Database tests run on SQLite and, when DPS_TEST_POSTGRES_URL is
set, on PostgreSQL too (a fresh database per test).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url

from dps import processes
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.db import Database
from tests.outbox_rows import outbox_database

TEST_SECRET = "test-secret-for-send-dps-0123456789abcdef"
# A token made when a test module is imported must outlive the whole run (an hour, the
# default, is shorter than CI on two cores).
RUN_TTL = timedelta(hours=12)

# Hypothesis's per-example deadline is a timed assertion: on a loaded machine it fails
# rules that are right. The tests check behaviour; speed is measured in bench/.
settings.register_profile("dps", deadline=None)
settings.load_profile("dps")
# Stacks the tests start (`dps up` in the e2e tests) record themselves here, never in the
# person's own pointer: a test run must not redirect their `dps token` to its stack.
os.environ.setdefault(
    "DPS_STACK_POINTER", str(Path(tempfile.gettempdir()) / f"dps-test-pointer-{os.getpid()}.json")
)
POSTGRES_URL = os.environ.get("DPS_TEST_POSTGRES_URL")

DATABASES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def kafka_bootstrap(logs_dir: Path) -> Iterator[str]:
    """A real Tansu broker (Kafka protocol, in memory) on a free port."""
    port = processes.free_port()
    broker = processes.tansu(port, logs_dir)
    broker.start()
    processes.wait_for_port(broker, port, timeout=20)
    yield f"127.0.0.1:{port}"
    broker.stop()


@pytest.fixture(scope="session")
def temporal_address(logs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Temporal dev server (SQLite file) on free ports."""
    port, ui_port = processes.free_port(), processes.free_port()
    db_file = tmp_path_factory.mktemp("temporal") / "temporal.db"
    server = processes.temporal_server(port, ui_port, db_file, logs_dir)
    server.start()
    processes.wait_for_port(server, port, timeout=60)
    yield f"127.0.0.1:{port}"
    server.stop()


def postgres_database() -> Iterator[str]:
    import psycopg

    assert POSTGRES_URL is not None
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql")
    name = f"dps_test_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=DATABASES)
def db_kind(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over SQLite and (when configured) PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(db_kind: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Makes a fresh database URL per name, of the kind this test is parametrised with."""
    cleanups: list[Iterator[str]] = []

    def make(name: str) -> str:
        if db_kind == "postgres":
            generator = postgres_database()
            cleanups.append(generator)
            return next(generator)
        return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"

    yield make
    for generator in cleanups:
        for _ in generator:
            pass


@pytest.fixture
def tokens() -> dict[Role, str]:
    return {
        role: issue_token(TEST_SECRET, role, provider_id="p-1" if role is Role.PROVIDER else None)
        for role in Role
    }


@pytest.fixture
async def outbox_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An outbox on its own, for the relay's and the broker watch's tests."""
    async with outbox_database(tmp_path) as db:
        yield db
