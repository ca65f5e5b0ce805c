"""One stack per data folder, and a refused start never erases a running stack's record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dps.processes import StackError
from dps.stack import Stack, StackPlan


def _plan(data_dir: Path) -> StackPlan:
    return StackPlan(data_dir=data_dir)


def _record(data_dir: Path, supervisor: int) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    pidfile = data_dir / "stack.json"
    pidfile.write_text(json.dumps({"supervisor": supervisor, "processes": {}}))
    return pidfile


def _other_live_pid() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])


def test_a_second_stack_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    running = _other_live_pid()
    try:
        pidfile = _record(tmp_path, running.pid)
        stack = Stack(_plan(tmp_path))
        with pytest.raises(StackError, match="already running from"):
            stack.start()
        stack.stop()  # what `dps up` does after a refused start
        assert json.loads(pidfile.read_text())["supervisor"] == running.pid
    finally:
        running.kill()


def test_a_stack_removes_only_its_own_record(tmp_path: Path) -> None:
    pidfile = _record(tmp_path, os.getpid())
    Stack(_plan(tmp_path)).stop()
    assert not pidfile.exists()
