"""Files that hold children's data or secrets: readable by their owner only.

The embedded stack keeps SQLite databases, logs and keys in the data folder; on a shared
machine another account must not read them (UK GDPR Art. 32, security of processing).
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077  # for child processes: whatever they create is 0600 / 0700
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) 0700; tighten it if it already existed."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty 0600 if missing (never truncating), and tighten it if not."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    path.chmod(FILE_MODE)
    return path
