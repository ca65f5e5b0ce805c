"""The training clock: an offset honoured only in training mode, refused in production
(a live council's statutory deadlines follow the real calendar), and durations people
type (`dps clock advance 3d`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from dps.cli import app
from shared import clock, training
from shared.settings import CommonSettings

runner = CliRunner()
PRODUCTION = {
    "env": "production",
    "kafka_security_protocol": "SSL",
    "temporal_payload_encryption": False,
}


@pytest.fixture(autouse=True)
def wall_clock_after(tmp_path: Path) -> Iterator[None]:
    yield
    clock.configure(training=False, production=False, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("12h", timedelta(hours=12)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert clock.parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not a duration"),
        ("3x", "not a duration"),
        ("0d", "only moves forward"),
        ("200d", "more than"),
    ],
)
def test_bad_durations_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        clock.parse_duration(text)


def test_the_offset_moves_now_only_in_training(tmp_path: Path) -> None:
    clock.write_offset(tmp_path, timedelta(days=5))
    clock.configure(training=False, production=False, data_dir=tmp_path)
    assert clock.offset() == timedelta(0)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)

    clock.configure(training=True, production=False, data_dir=tmp_path)
    assert clock.offset() == timedelta(days=5)
    assert clock.now() - datetime.now(UTC) > timedelta(days=4, hours=23)
    clock.write_offset(tmp_path, timedelta(days=9))  # `dps clock advance` in another process
    stat = (tmp_path / clock.TRAINING_FILE).stat()
    os.utime(tmp_path / clock.TRAINING_FILE, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    assert clock.offset() == timedelta(days=9)
    assert (tmp_path / clock.TRAINING_FILE).stat().st_mode & 0o777 == 0o600


def test_production_refuses_the_training_clock(tmp_path: Path) -> None:
    with pytest.raises(clock.TrainingRefused, match="DPS_ENV=production"):
        clock.configure(training=True, production=True, data_dir=tmp_path)
    with pytest.raises(ValidationError, match="DPS_TRAINING=true: the training clock is refused"):
        CommonSettings(training=True, **PRODUCTION)  # type: ignore[arg-type]
    CommonSettings(training=False, **PRODUCTION)  # type: ignore[arg-type]
    training.start_training(tmp_path)
    with pytest.raises(clock.TrainingRefused, match="production"):
        training.require_training(tmp_path, production=True)


def test_a_stack_not_started_for_training_is_never_moved(tmp_path: Path) -> None:
    with pytest.raises(clock.TrainingRefused, match="dps up --training"):
        training.require_training(tmp_path, production=False)
    training.start_training(tmp_path)
    training.require_training(tmp_path, production=False)


def test_dps_clock_advance_refuses_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DPS_STACK_POINTER", str(tmp_path / "pointer.json"))
    result = runner.invoke(app, ["clock", "advance", "3d"])
    assert result.exit_code == 2 and "not started for training" in result.output
    training.start_training(tmp_path)
    result = runner.invoke(app, ["clock", "advance", "3 days"])
    assert result.exit_code == 2 and "not a duration" in result.output
    for name, value in {**PRODUCTION, "kafka_ssl_cafile": ""}.items():
        monkeypatch.setenv(f"DPS_{name.upper()}", str(value))
    result = runner.invoke(app, ["clock", "advance", "3d"])
    assert result.exit_code == 2 and "refused when DPS_ENV=production" in result.output
    result = runner.invoke(app, ["up", "--training"])
    assert result.exit_code == 2 and "--training: the training clock is refused" in result.output
    assert clock.read_offset(tmp_path) == timedelta(0)
