"""A service's database connection over TLS with the server's name verified
(DPS_DATABASE_SSLMODE=verify-full, DPS_DATABASE_SSLROOTCERT) and a client certificate.

The test PostgreSQL has no TLS of its own, so tls_proxy.py terminates it in front, and the
client uses libpq's direct TLS negotiation (`sslnegotiation=direct`, libpq 17+), which
starts TLS at once instead of asking the server first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dps import processes
from dps.devcerts import Pki, make_pki
from shared.db import Database
from shared.settings import settings_for

POSTGRES_URL = os.environ.get("DPS_TEST_POSTGRES_URL")
ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not POSTGRES_URL, reason="DPS_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_postgres_url(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert POSTGRES_URL is not None
    server = make_url(POSTGRES_URL)
    port = processes.free_port()
    files = [str(pki.server_cert), str(pki.server_key), str(pki.ca)]
    proxy = processes.Managed(
        "tls proxy",
        [
            sys.executable,
            "-m",
            "tests.integration.transport.tls_proxy",
            str(port),
            str(server.port or 5432),
            *files,
            "postgresql",
        ],
        tmp_path_factory.mktemp("pg") / "tls-proxy.log",
        env={"PYTHONPATH": str(ROOT)},
    )
    proxy.start()
    try:
        processes.wait_for_port(proxy, port, timeout=20)
        through = server.set(host="localhost", port=port, query={"sslnegotiation": "direct"})
        yield through.render_as_string(hide_password=False)
    finally:
        proxy.stop()


async def test_the_database_is_reached_over_verified_tls(tls_postgres_url: str, pki: Pki) -> None:
    settings = settings_for(
        "placements",
        database_url=tls_postgres_url,
        database_sslmode="verify-full",
        database_sslrootcert=str(pki.ca),
        database_sslcert=str(pki.client_cert),
        database_sslkey=str(pki.client_key),
    )
    db = Database(settings.effective_database_url())
    try:
        await db.ping()
    finally:
        await db.dispose()


async def test_a_server_certificate_from_another_ca_is_refused(
    tls_postgres_url: str, pki: Pki, tmp_path: Path
) -> None:
    stranger = make_pki(tmp_path)
    settings = settings_for(
        "placements",
        database_url=tls_postgres_url,
        database_sslmode="verify-full",
        database_sslrootcert=str(stranger.ca),
        database_sslcert=str(pki.client_cert),
        database_sslkey=str(pki.client_key),
    )
    db = Database(settings.effective_database_url())
    try:
        with pytest.raises(OperationalError, match="SSL error"):
            await db.ping()
    finally:
        await db.dispose()
