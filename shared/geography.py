"""Offline geography for Great Britain: postcodes, the National Grid and district centroids.

The shipped table ``data/postcode_districts.csv`` maps each postcode district (outward
code, e.g. ``ME14``) in England, Wales and Scotland to the mean position of its
postcodes, built from Ordnance Survey Code-Point Open ("Contains OS data © Crown
copyright and database right"; see ``data/README.md``). A district centroid is typically
within a few kilometres of any address in it: good for "within N km" searches, not for
routing.

Also here: pure-Python conversions between British National Grid metres and WGS84
latitude/longitude (OS transverse Mercator and the OSGB36 <-> WGS84 Helmert transform,
accurate to a few metres), and the postcode shapes. Pure: no I/O beyond reading the
shipped table once, on first use.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

TABLE_PACKAGE = "shared.data"
TABLE_FILE = "postcode_districts.csv"
TABLE_COLUMNS = ("district", "easting", "northing", "latitude", "longitude", "postcodes")


@dataclass(frozen=True, slots=True)
class Point:
    """A place as WGS84 latitude/longitude in decimal degrees."""

    latitude: float
    longitude: float


# --- postcodes ------------------------------------------------------------------------

# Royal Mail outward-code shapes: A9, A99, AA9, AA99, A9A, AA9A; inward code 9AA.
_OUTWARD = (
    r"(?:[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRV-Y]))"
)
_INWARD = r"(?:[0-9][ABD-HJLNP-UW-Z]{2})"
_POSTCODE_RE = re.compile(rf"^(?P<outward>{_OUTWARD}|GIR)(?P<inward>{_INWARD})$")
_DISTRICT_RE = re.compile(rf"^{_OUTWARD}$")


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def normalise_postcode(raw: str) -> str | None:
    """``"me141xx"`` -> ``"ME14 1XX"``; None when it is not a UK postcode."""
    match = _POSTCODE_RE.match(_compact(raw))
    if match is None:
        return None
    return f"{match['outward']} {match['inward']}"


def postcode_district(postcode_or_district: str) -> str | None:
    """Outward code (district) of a full postcode or of a district: ``"ME14"``."""
    compact = _compact(postcode_or_district)
    full = _POSTCODE_RE.match(compact)
    if full is not None:
        return full["outward"]
    return compact if _DISTRICT_RE.match(compact) else None


# --- British National Grid <-> WGS84 ----------------------------------------------------

# Airy 1830 ellipsoid and the National Grid projection (OS "A guide to coordinate
# systems in Great Britain", annexes A-C).
_AIRY_A, _AIRY_B = 6377563.396, 6356256.909
_F0 = 0.9996012717
_LAT0, _LON0 = math.radians(49.0), math.radians(-2.0)
_E0, _N0 = 400000.0, -100000.0
# WGS84 ellipsoid.
_WGS_A, _WGS_B = 6378137.000, 6356752.314245
# OSGB36 -> WGS84 Helmert parameters: tx, ty, tz (metres), scale (ppm), rx, ry, rz
# (arc-seconds). WGS84 -> OSGB36 is the same transform with every sign reversed.
_Helmert = tuple[float, float, float, float, float, float, float]
_OSGB36_TO_WGS84: _Helmert = (446.448, -125.157, 542.060, -20.4894, 0.1502, 0.2470, 0.8421)
_WGS84_TO_OSGB36: _Helmert = (-446.448, 125.157, -542.060, 20.4894, -0.1502, -0.2470, -0.8421)


def _meridional_arc(lat: float) -> float:
    n = (_AIRY_A - _AIRY_B) / (_AIRY_A + _AIRY_B)
    d, s = lat - _LAT0, lat + _LAT0
    return (
        _AIRY_B
        * _F0
        * (
            (1 + n + 1.25 * n**2 + 1.25 * n**3) * d
            - (3 * n + 3 * n**2 + 2.625 * n**3) * math.sin(d) * math.cos(s)
            + (1.875 * n**2 + 1.875 * n**3) * math.sin(2 * d) * math.cos(2 * s)
            - (35 / 24) * n**3 * math.sin(3 * d) * math.cos(3 * s)
        )
    )


def bng_to_osgb36(easting: float, northing: float) -> tuple[float, float]:
    """Inverse transverse Mercator: grid metres -> OSGB36 (latitude, longitude) degrees."""
    a, e2 = _AIRY_A, 1 - (_AIRY_B / _AIRY_A) ** 2
    lat = _LAT0 + (northing - _N0) / (a * _F0)
    while abs(northing - _N0 - _meridional_arc(lat)) >= 1e-5:  # sub-millimetre
        lat += (northing - _N0 - _meridional_arc(lat)) / (a * _F0)
    sin_lat, cos_lat, tan_lat = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * _F0 / math.sqrt(1 - e2 * sin_lat**2)
    rho = a * _F0 * (1 - e2) / (1 - e2 * sin_lat**2) ** 1.5
    eta2 = nu / rho - 1
    sec_lat = 1 / cos_lat
    vii = tan_lat / (2 * rho * nu)
    viii = tan_lat / (24 * rho * nu**3) * (5 + 3 * tan_lat**2 + eta2 - 9 * tan_lat**2 * eta2)
    ix = tan_lat / (720 * rho * nu**5) * (61 + 90 * tan_lat**2 + 45 * tan_lat**4)
    x = sec_lat / nu
    xi = sec_lat / (6 * nu**3) * (nu / rho + 2 * tan_lat**2)
    xii = sec_lat / (120 * nu**5) * (5 + 28 * tan_lat**2 + 24 * tan_lat**4)
    xiia = sec_lat / (5040 * nu**7) * (61 + 662 * tan_lat**2 + 1320 * tan_lat**4 + 720 * tan_lat**6)
    de = easting - _E0
    lat_out = lat - vii * de**2 + viii * de**4 - ix * de**6
    lon_out = _LON0 + x * de - xi * de**3 + xii * de**5 - xiia * de**7
    return math.degrees(lat_out), math.degrees(lon_out)


def _osgb36_to_bng(lat: float, lon: float) -> tuple[float, float]:
    """Transverse Mercator: OSGB36 radians -> National Grid (easting, northing) metres."""
    a, e2 = _AIRY_A, 1 - (_AIRY_B / _AIRY_A) ** 2
    sin_lat, cos_lat, tan2 = math.sin(lat), math.cos(lat), math.tan(lat) ** 2
    nu = a * _F0 / math.sqrt(1 - e2 * sin_lat**2)
    rho = a * _F0 * (1 - e2) / (1 - e2 * sin_lat**2) ** 1.5
    eta2 = nu / rho - 1
    i = _meridional_arc(lat) + _N0
    ii = nu / 2 * sin_lat * cos_lat
    iii = nu / 24 * sin_lat * cos_lat**3 * (5 - tan2 + 9 * eta2)
    iiia = nu / 720 * sin_lat * cos_lat**5 * (61 - 58 * tan2 + tan2**2)
    iv = nu * cos_lat
    v = nu / 6 * cos_lat**3 * (nu / rho - tan2)
    vi = nu / 120 * cos_lat**5 * (5 - 18 * tan2 + tan2**2 + 14 * eta2 - 58 * tan2 * eta2)
    dl = lon - _LON0
    northing = i + ii * dl**2 + iii * dl**4 + iiia * dl**6
    easting = _E0 + iv * dl + v * dl**3 + vi * dl**5
    return easting, northing


def _to_cartesian(lat: float, lon: float, a: float, b: float) -> tuple[float, float, float]:
    e2 = 1 - (b / a) ** 2
    nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return (
        nu * math.cos(lat) * math.cos(lon),
        nu * math.cos(lat) * math.sin(lon),
        (1 - e2) * nu * math.sin(lat),
    )


def _helmert(params: _Helmert, x: float, y: float, z: float) -> tuple[float, float, float]:
    tx, ty, tz, scale_ppm, *rotations = params
    s = scale_ppm * 1e-6
    rx, ry, rz = (math.radians(r / 3600) for r in rotations)
    return (
        tx + (1 + s) * x - rz * y + ry * z,
        ty + rz * x + (1 + s) * y - rx * z,
        tz - ry * x + rx * y + (1 + s) * z,
    )


def _to_geodetic(x: float, y: float, z: float, a: float, b: float) -> tuple[float, float]:
    """Cartesian metres -> (latitude, longitude) radians on the ellipsoid (a, b)."""
    e2 = 1 - (b / a) ** 2
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(10):  # converges to well under a millimetre in a few rounds
        nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        lat = math.atan2(z + e2 * nu * math.sin(lat), p)
    return lat, math.atan2(y, x)


def bng_to_wgs84(easting: float, northing: float) -> Point:
    """British National Grid metres -> WGS84 latitude/longitude (within ~5 m)."""
    lat, lon = bng_to_osgb36(easting, northing)
    xyz = _to_cartesian(math.radians(lat), math.radians(lon), _AIRY_A, _AIRY_B)
    latitude, longitude = _to_geodetic(*_helmert(_OSGB36_TO_WGS84, *xyz), _WGS_A, _WGS_B)
    return Point(math.degrees(latitude), math.degrees(longitude))


def wgs84_to_bng(latitude: float, longitude: float) -> tuple[float, float]:
    """WGS84 degrees -> British National Grid (easting, northing) metres (within ~5 m)."""
    xyz = _to_cartesian(math.radians(latitude), math.radians(longitude), _WGS_A, _WGS_B)
    lat, lon = _to_geodetic(*_helmert(_WGS84_TO_OSGB36, *xyz), _AIRY_A, _AIRY_B)
    return _osgb36_to_bng(lat, lon)


# --- the shipped table ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistrictCentroid:
    """Mean position of a district's postcodes, on the grid and as lat/lon."""

    district: str
    easting: int
    northing: int
    latitude: float
    longitude: float
    postcodes: int  # how many postcodes the mean was taken over

    @property
    def point(self) -> Point:
        return Point(self.latitude, self.longitude)


def parse_table(text: str) -> dict[str, DistrictCentroid]:
    """Parse the district table's CSV text (header: TABLE_COLUMNS)."""
    table = {}
    for row in csv.DictReader(io.StringIO(text)):
        centroid = DistrictCentroid(
            district=row["district"],
            easting=int(row["easting"]),
            northing=int(row["northing"]),
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            postcodes=int(row["postcodes"]),
        )
        table[centroid.district] = centroid
    return table


@cache
def district_table() -> dict[str, DistrictCentroid]:
    """The shipped table, read from the package once and kept."""
    data = resources.files(TABLE_PACKAGE).joinpath(TABLE_FILE)
    return parse_table(data.read_text(encoding="utf-8"))


def lookup_district(postcode_or_district: str) -> DistrictCentroid | None:
    """The centroid row for ``"ME14"``, ``"me14 1xx"`` or ``"ME141XX"``; None if unknown."""
    district = postcode_district(postcode_or_district)
    if district is None:
        return None
    return district_table().get(district)


def locate(postcode_or_district: str) -> Point | None:
    """Approximate WGS84 position (district centroid) of a postcode or district."""
    centroid = lookup_district(postcode_or_district)
    return centroid.point if centroid else None


def district_grid(district: str) -> tuple[float, float] | None:
    """Grid (easting, northing) metres of a district's centroid; None if unknown.

    Takes a district only (``" me14 "`` is ``ME14``; a full postcode is unknown), unlike
    :func:`locate`, which also accepts full postcodes.
    """
    centroid = district_table().get(district.strip().upper().replace(" ", ""))
    return (float(centroid.easting), float(centroid.northing)) if centroid else None


def grid_cell_centre(easting: float, northing: float, cell_m: int) -> tuple[int, int]:
    """Centre of the ``cell_m`` x ``cell_m`` National Grid cell holding a point.

    Any point of the cell lies within ``cell_m * sqrt(2) / 2`` metres of the centre, so a
    distance measured from the centre is off by at most that much (triangle inequality).
    """
    half = cell_m // 2
    return (
        int(easting // cell_m) * cell_m + half,
        int(northing // cell_m) * cell_m + half,
    )
