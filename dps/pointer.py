"""Where the running stack is: `dps up` leaves a pointer to its data folder and ports,
so `dps token`, `dps status` and `dps import` in another terminal find a stack started
with `--data-dir` (its signing secret and ports) without being told.

The pointer is `$DPS_STACK_POINTER`, else `$XDG_STATE_HOME/send-dps/stack.json` (by
default `~/.local/state/send-dps/stack.json`). Kept light (no pydantic, no services):
`dps token` reads it and must answer in well under half a second.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def pointer_path() -> Path:
    explicit = os.environ.get("DPS_STACK_POINTER")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "send-dps" / "stack.json"


def write_pointer(data_dir: Path, service_ports: dict[str, int], supervisor: int) -> None:
    path = pointer_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"data_dir": str(data_dir), "service_ports": service_ports, "pid": supervisor}
        path.write_text(json.dumps(record))
    except OSError:
        pass  # a read-only home: --data-dir or DPS_DATA_DIR still work


def clear_pointer(data_dir: Path) -> None:
    """Remove the pointer if it points at this data folder (another stack's stays)."""
    record = read_pointer(alive_only=False)
    if record is not None and Path(record["data_dir"]) == data_dir:
        pointer_path().unlink(missing_ok=True)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pointer(*, alive_only: bool = True) -> dict[str, Any] | None:
    """The running stack's record, or None (no pointer, unreadable, or its `dps up` is
    gone)."""
    try:
        record = json.loads(pointer_path().read_text())
        pid = int(record["pid"])
        Path(record["data_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if alive_only and not is_alive(pid):
        return None
    return dict(record)


DEFAULT_DATA_DIR = Path(".data")  # the settings' default, relative to where dps runs


def _runs_here(data_dir: Path) -> bool:
    """Whether the stack recorded in ``data_dir`` (by `dps up`) is still running."""
    try:
        return is_alive(int(json.loads((data_dir / "stack.json").read_text())["supervisor"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def stack_data_dir(explicit: Path | None) -> Path | None:
    """The data folder to use: the one given, else DPS_DATA_DIR's (None: the settings
    read it), else the default folder here if a stack runs from it, else the running
    stack the pointer names, else None (the settings' default)."""
    if explicit is not None:
        return explicit
    if os.environ.get("DPS_DATA_DIR") or _runs_here(DEFAULT_DATA_DIR):
        return None
    record = read_pointer()
    return Path(record["data_dir"]) if record else None


def recorded_ports(data_dir: Path) -> dict[str, int]:
    """The service ports the stack in `data_dir` runs on, as `dps up` recorded them."""
    try:
        record = json.loads((data_dir / "stack.json").read_text())
        return {str(k): int(v) for k, v in record.get("service_ports", {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
