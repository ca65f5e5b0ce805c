"""Each service's migrations build exactly the tables its models describe, on SQLite and
PostgreSQL, and go down and up again."""

from __future__ import annotations

from collections.abc import Callable

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
        and value.__module__ == models.__name__
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
