"""Each service's migrations build exactly the tables its models describe, on SQLite and
PostgreSQL, and go down and up again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from dps.services import definition_of
from shared.db import migrate, sync_url
from shared.infra_models import infra_registry
from shared.settings import SERVICES


def _models_metadata(service: str):  # type: ignore[no-untyped-def]
    import importlib

    models = importlib.import_module(f"services.{service}.models")
    base = next(
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and value.__name__.endswith("Model")
        and value.__module__.startswith(models.__name__)  # a module or a package
    )
    return base.metadata


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service: str, database_url: Callable[[str], str]) -> None:
    url = database_url(f"migrations-{service}")
    migrations = definition_of(service).migrations_dir
    migrate(url, migrations)
    migrate(url, migrations, "0001")  # down to the first revision ...
    migrate(url, migrations)  # ... and up again
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(
            context, [infra_registry.metadata, _models_metadata(service)]
        )
    engine.dispose()
    # Type and index details differ harmlessly between dialects; tables and columns must not.
    structural = [
        d
        for d in differences
        if d[0] in {"add_table", "remove_table", "add_column", "remove_column"}
    ]
    assert structural == [], f"{service}: models and migrations differ: {structural}"


def _migrate_at(url: str, migrations: Path, start_at: float) -> None:
    """A replica: ready everything it imports, then migrate at the agreed moment."""
    import alembic.command  # noqa: F401

    import services.placements.models  # noqa: F401

    time.sleep(max(0.0, start_at - time.time()))
    migrate(url, migrations)


@pytest.mark.parametrize("replicas", [4])
def test_concurrent_migrations_of_one_fresh_database_all_succeed(
    replicas: int, database_url: Callable[[str], str]
) -> None:
    """Replicas starting together on a fresh database each migrate it; none crashes.

    Without the advisory lock, PostgreSQL saw all four create the same tables and three
    fail (DuplicateTable). SQLite is one process's file and is migrated once here.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    url = database_url("concurrent")
    migrations = definition_of("placements").migrations_dir
    workers = replicas if url.startswith("postgresql") else 1
    # Processes, as replicas are (Alembic's context is one per process, not per thread).
    spawn = multiprocessing.get_context("spawn")
    start_at = [time.time() + 10] * workers  # all at once, after every process started
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        results = list(pool.map(_migrate_at, [url] * workers, [migrations] * workers, start_at))
    assert len(results) == workers
    engine = create_engine(sync_url(url))
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    engine.dispose()
    assert len(heads) == 1
