from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import settings_for


def test_defaults_give_each_service_its_own_database_port_and_group(tmp_path: Path) -> None:
    settings = settings_for("placements", data_dir=tmp_path)
    assert settings.effective_http_port() == 8003
    assert settings.group_for("ehc.plans.v1") == "dps.placements.ehc.plans.v1"
    assert settings.task_queue == "dps.placements"
    assert settings.effective_database_url().endswith("placements.db")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPS_HTTP_PORT", "9100")
    monkeypatch.setenv("DPS_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = settings_for("monitoring")
    assert (settings.effective_http_port(), settings.kafka_bootstrap) == (9100, "kafka:9092")


def test_bad_configuration_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPS_CONSUMER_BATCH_SIZE", "0")
    with pytest.raises(ValidationError, match="consumer_batch_size"):
        settings_for("monitoring")
    with pytest.raises(ValueError, match="unknown service"):
        settings_for("finance")


def test_signing_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = settings_for("monitoring", data_dir=tmp_path)
    assert settings.signing_secret() == settings.signing_secret()
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0


def test_the_pseudonym_key_is_made_once_read_once_and_its_own_per_data_dir(
    tmp_path: Path,
) -> None:
    settings = settings_for("placements", data_dir=tmp_path / "a")
    key = settings.pseudonym_key()
    path = tmp_path / "a" / "child-pseudonym-key"
    assert path.stat().st_mode & 0o077 == 0
    assert len(key) >= 48
    path.unlink()  # kept once read: the file is not read (nor made again) per record
    assert settings.pseudonym_key() == key
    assert not path.exists()
    elsewhere = settings.model_copy(update={"data_dir": tmp_path / "b"})
    assert elsewhere.pseudonym_key() not in (b"", key)  # its own data dir's key
    assert (tmp_path / "b" / "child-pseudonym-key").read_text().encode() == (
        elsewhere.pseudonym_key()
    )
    given = settings_for("placements", data_dir=tmp_path, child_pseudonym_key="k" * 32)
    assert given.pseudonym_key() == b"k" * 32


def test_the_inbox_outlives_the_outbox_replay_window() -> None:
    """A replayed event older than the inbox's memory would be applied twice."""
    settings = settings_for("placements")
    assert settings.inbox_retention_days > settings.outbox_retention_days
    with pytest.raises(ValidationError, match="DPS_INBOX_RETENTION_DAYS"):
        settings_for("placements", outbox_retention_days=30, inbox_retention_days=30)
    assert "replay" in (type(settings).model_fields["inbox_retention_days"].description or "")
