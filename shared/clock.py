"""The training clock: a council rehearsing on the embedded stack walks weeks of
statutory deadlines in minutes (issue 14).

Two clocks move together. Temporal's dev server, started with per-workflow time skipping
(`dps up --training`), moves each running workflow's timers on (shared.training); this
module moves the services' own "now" by the same offset, kept in the data folder, so a
route that compares a deadline with now agrees with the workflows. The offset is honoured
only in training mode, which production refuses (CommonSettings), so a live council's
clock can never be moved.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

TRAINING_FILE = "training-clock.json"
# The largest step one advance may take: a rehearsal walks weeks, not years, and a typo
# ("300d" for "30d") should be refused rather than spend ten months of timers.
MAX_STEP = timedelta(days=120)
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


class TrainingRefused(RuntimeError):
    """The clock may not move here (production, or a stack not started for training)."""


@dataclass
class _State:
    path: Path | None = None  # None: wall clock (not training)
    mtime_ns: int = -1
    offset: timedelta = timedelta(0)


_state = _State()


def configure(*, training: bool, production: bool, data_dir: Path) -> None:
    """Called once per process at start; the offset is read from the data folder."""
    if training and production:
        raise TrainingRefused(training_refused_in_production())
    _state.path = data_dir / TRAINING_FILE if training else None
    _state.mtime_ns, _state.offset = -1, timedelta(0)


def training_refused_in_production() -> str:
    return (
        "the training clock is refused when DPS_ENV=production: statutory deadlines of a "
        "live council must follow the real calendar"
    )


def offset() -> timedelta:
    """How far the training clock is ahead of the wall clock (zero outside training)."""
    path = _state.path
    if path is None:
        return timedelta(0)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return timedelta(0)
    if mtime != _state.mtime_ns:  # re-read only when `dps clock advance` wrote it
        _state.offset = read_offset(path.parent)
        _state.mtime_ns = mtime
    return _state.offset


def now() -> datetime:
    """The business "now" of a route: the wall clock, plus the training offset."""
    return datetime.now(UTC) + offset()


def now_with(ahead: timedelta) -> datetime:
    return datetime.now(UTC) + ahead


def training() -> bool:
    return _state.path is not None


def read_offset(data_dir: Path) -> timedelta:
    try:
        data = json.loads((data_dir / TRAINING_FILE).read_text())
        return timedelta(seconds=float(data["offset_s"]))
    except (OSError, ValueError, KeyError, TypeError):
        return timedelta(0)


def write_offset(data_dir: Path, value: timedelta) -> None:
    """Atomically, so a service never reads half a file."""
    target = data_dir / TRAINING_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"offset_s": value.total_seconds()}))
    tmp.chmod(0o600)
    os.replace(tmp, target)


def parse_duration(text: str) -> timedelta:
    """``3d``, ``2w``, ``12h``, ``1d12h``, ``90m``: a positive step of at most MAX_STEP."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration: write it like 3d, 2w, 12h or 1d12h")
    weeks, days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    step = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    if step <= timedelta(0):
        raise ValueError("the training clock only moves forward: give a positive duration")
    if step > MAX_STEP:
        raise ValueError(f"{text!r} is more than {MAX_STEP.days} days in one step")
    return step
