"""The embedded stack's files are its owner's only: the data folder 0700, SQLite files
(and their WAL and shared-memory files), logs and whatever child processes create 0600."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from sqlalchemy import text

from dps import processes
from shared.db import Database
from shared.files import private_dir, private_file
from shared.settings import settings_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_dir_and_file_tighten_what_exists(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    existing = folder / "x"
    existing.write_text("kept")
    existing.chmod(0o644)
    assert mode(private_dir(folder)) == 0o700
    assert mode(private_file(existing)) == 0o600
    assert existing.read_text() == "kept"


async def test_sqlite_database_files_are_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = settings_for("placements", data_dir=data).effective_database_url()
    assert mode(data) == 0o700
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted(data.glob("placements.db*"))
        assert data / "placements.db" in files
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        await db.dispose()


def test_child_processes_and_their_logs_are_private(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    made = tmp_path / "made-by-child"
    child = processes.Managed(
        "writer", [sys.executable, "-c", f"open({str(made)!r}, 'w').write('x')"], logs / "w.log"
    )
    child.start()
    assert child.process is not None
    assert child.process.wait(20) == 0
    assert mode(logs) == 0o700
    assert mode(logs / "w.log") == 0o600
    assert mode(made) == 0o600
