"""`dps service` refuses to start with plaintext Kafka in production, naming the setting;
`dps dev-certs` writes a CA, server and client certificates."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from dps.cli import app

runner = CliRunner()


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_a_service_refuses_plaintext_kafka_in_production(
    protocol: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DPS_ENV", "production")
    monkeypatch.setenv("DPS_KAFKA_SECURITY_PROTOCOL", protocol)
    monkeypatch.setenv("DPS_KAFKA_SASL_USERNAME", "u")
    monkeypatch.setenv("DPS_KAFKA_SASL_PASSWORD", "p")
    result = runner.invoke(app, ["service", "placements"])
    assert result.exit_code == 2
    assert f"DPS_KAFKA_SECURITY_PROTOCOL={protocol} is refused" in result.output


def test_dev_certs(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    result = runner.invoke(app, ["dev-certs", str(out), "--host", "kafka", "--days", "30"])
    assert result.exit_code == 0, result.output
    server = x509.load_pem_x509_certificate((out / "server.pem").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["kafka"]
    for key in ("server.key", "client.key", "server-bundle.pem"):
        assert stat.S_IMODE((out / key).stat().st_mode) == 0o600
