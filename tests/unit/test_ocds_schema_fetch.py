"""dps.ocds_schema: the official OCDS schemas are taken from the PyPI sdists only with
their pinned sha256 (a changed file is refused), and a venv that has them keeps them."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from dps.ocds_schema import SCHEMA_FILES, fetch, install
from tests.ocds_check import schema_dir


def sdist(path: Path, member: str, data: bytes) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(f"pkg-1.0/{member}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_a_schema_file_with_another_hash_is_refused(tmp_path: Path) -> None:
    f = SCHEMA_FILES[0]
    real = (schema_dir() / f.name).read_bytes()
    tampered = sdist(tmp_path / "bad.tar.gz", f.member, real.replace(b"Release", b"Relaese", 1))
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(RuntimeError, match="refusing"):
        install(f, tampered, target)
    assert not (target / f.name).exists()
    install(f, sdist(tmp_path / "good.tar.gz", f.member, real), target)
    assert (target / f.name).read_bytes() == real


def test_schemas_in_place_are_kept_without_a_download(tmp_path: Path) -> None:
    for f in SCHEMA_FILES:
        (tmp_path / f.name).write_bytes((schema_dir() / f.name).read_bytes())
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert fetch(tmp_path) == tmp_path
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
