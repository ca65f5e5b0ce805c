"""Database pool use per service, read when /metrics is scraped (issue 17)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from shared.db import POOL_OVERFLOW, POOL_SIZE, Database
from shared.metrics import DB_POOLS


def sample(name: str, service: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"service": service})


def test_pools_are_read_at_scrape_time_and_add_up_per_service() -> None:
    used = {"a": 3, "b": 1}
    DB_POOLS.track("a", "pool-test", lambda: used["a"], 20)
    DB_POOLS.track("b", "pool-test", lambda: used["b"], 20)
    try:
        assert sample("dps_db_pool_in_use", "pool-test") == 4
        assert sample("dps_db_pool_size", "pool-test") == 40
        used["a"] = 7
        assert sample("dps_db_pool_in_use", "pool-test") == 8
        DB_POOLS.forget("b")
        assert sample("dps_db_pool_size", "pool-test") == 20
    finally:
        DB_POOLS.forget("a")
        DB_POOLS.forget("b")
    assert sample("dps_db_pool_in_use", "pool-test") is None


async def test_a_database_counts_its_checked_out_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        assert db.connections_in_use() == 0
        async with db.engine.connect():
            assert db.connections_in_use() == 1
        assert db.connections_in_use() == 0
    finally:
        await db.dispose()


def test_only_postgresql_has_a_pool_capacity(tmp_path: Path) -> None:
    assert Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").pool_capacity == 0
    postgres = Database("postgresql+psycopg://u@127.0.0.1:1/x")  # never connects
    assert postgres.pool_capacity == POOL_SIZE + POOL_OVERFLOW
