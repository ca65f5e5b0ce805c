"""A service's Temporal client and worker over mutual TLS (the dev server has no TLS of
its own: tls_proxy.py terminates it, offering ALPN h2 as gRPC needs), with encrypted
payloads; a client without a certificate is refused."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dps import processes
from dps.devcerts import Pki, make_pki
from shared import temporal
from shared.settings import CommonSettings
from tests.integration.transport.test_payload_encryption import run_search

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_temporal(
    temporal_address: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = processes.free_port()
    inner = temporal_address.rsplit(":", 1)[1]
    files = [str(pki.server_cert), str(pki.server_key), str(pki.ca)]
    proxy = processes.Managed(
        "tls proxy",
        [sys.executable, "-m", "tests.integration.transport.tls_proxy", str(port), inner, *files],
        tmp_path_factory.mktemp("t") / "tls-proxy.log",
        env={"PYTHONPATH": str(ROOT)},
    )
    proxy.start()
    try:
        processes.wait_for_port(proxy, port, timeout=20)
        yield f"127.0.0.1:{port}"
    finally:
        proxy.stop()


def tls_settings(pki: Pki, tmp_path: Path, **overrides: object) -> CommonSettings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "temporal_tls": True,
        "temporal_tls_ca_file": str(pki.ca),
        "temporal_tls_cert_file": str(pki.client_cert),
        "temporal_tls_key_file": str(pki.client_key),
        "temporal_tls_server_name": "localhost",
        **overrides,
    }
    return CommonSettings(**values)  # type: ignore[arg-type]


async def test_a_worker_runs_a_workflow_over_mutual_tls(
    tls_temporal: str, pki: Pki, tmp_path: Path
) -> None:
    client = await temporal.connect(tls_temporal, settings=tls_settings(pki, tmp_path))
    await run_search(client)


async def test_a_client_without_a_certificate_is_refused(
    tls_temporal: str, pki: Pki, tmp_path: Path
) -> None:
    bare = tls_settings(pki, tmp_path, temporal_tls_cert_file="", temporal_tls_key_file="")
    with pytest.raises(RuntimeError):
        await temporal.connect(tls_temporal, settings=bare)
