"""Fresh databases for benchmarks: a SQLite file in the run's directory, or a new
PostgreSQL database (dropped afterwards) on the server of DPS_BENCH_POSTGRES_URL, else
DPS_TEST_POSTGRES_URL, else the local one at 127.0.0.1:5432 when it answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_server() -> str | None:
    """The PostgreSQL server to benchmark on, or None when none answers."""
    import psycopg

    url = (
        os.environ.get("DPS_BENCH_POSTGRES_URL")
        or os.environ.get("DPS_TEST_POSTGRES_URL")
        or LOCAL_POSTGRES
    )
    try:
        with psycopg.connect(_dsn(url), connect_timeout=3):
            return url
    except psycopg.Error:
        return None


@contextmanager
def fresh_database(kind: str, work: Path, name: str) -> Iterator[str]:
    """A new, empty database URL of `kind` (sqlite or postgres)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{work / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
        return
    server = postgres_server()
    if server is None:
        raise RuntimeError("no PostgreSQL server answers (set DPS_BENCH_POSTGRES_URL)")
    import psycopg

    database = f"dps_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield make_url(server).set(database=database).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_dsn(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def database_size_mib(url: str) -> float:
    """Size on disk of a benchmark's database (SQLite file with its WAL, or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        files = [path, path.with_name(path.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20
    import psycopg

    with psycopg.connect(_dsn(url)) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return float(row[0]) / 2**20 if row else 0.0


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
