"""Where providers and children are, on the British National Grid the domain measures in.

providers.v1 carries WGS84 latitude/longitude; placement needs carry only a postcode
district. The domain's GridPoint is grid metres, so this converts WGS84 to the grid
(Helmert WGS84 -> OSGB36, then the National Grid transverse Mercator; a few metres'
accuracy, ample for "within N km") and looks up district centroids in a copy of
provider_registry's table (built from OS Code-Point Open: "Contains OS data © Crown
copyright and database right"). Pure: no I/O beyond reading the shipped table once.
"""

from __future__ import annotations

import csv
import io
import math
from functools import cache
from importlib import resources

from services.procurement.domain import GridPoint

# Airy 1830 ellipsoid and the National Grid projection (OS "A guide to coordinate
# systems in Great Britain"), and the WGS84 ellipsoid.
_AIRY_A, _AIRY_B = 6377563.396, 6356256.909
_WGS_A, _WGS_B = 6378137.000, 6356752.314245
_F0 = 0.9996012717
_LAT0, _LON0 = math.radians(49.0), math.radians(-2.0)
_E0, _N0 = 400000.0, -100000.0
# WGS84 -> OSGB36: the published OSGB36 -> WGS84 parameters with their signs reversed.
_TX, _TY, _TZ = -446.448, 125.157, -542.060
_SCALE_PPM = 20.4894
_RX, _RY, _RZ = -0.1502, -0.2470, -0.8421


def _cartesian(lat: float, lon: float, a: float, b: float) -> tuple[float, float, float]:
    e2 = 1 - (b / a) ** 2
    nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return (
        nu * math.cos(lat) * math.cos(lon),
        nu * math.cos(lat) * math.sin(lon),
        (1 - e2) * nu * math.sin(lat),
    )


def _helmert(x: float, y: float, z: float) -> tuple[float, float, float]:
    s = _SCALE_PPM * 1e-6
    rx, ry, rz = (math.radians(r / 3600) for r in (_RX, _RY, _RZ))
    return (
        _TX + (1 + s) * x - rz * y + ry * z,
        _TY + rz * x + (1 + s) * y - rx * z,
        _TZ - ry * x + rx * y + (1 + s) * z,
    )


def _geodetic(x: float, y: float, z: float, a: float, b: float) -> tuple[float, float]:
    e2 = 1 - (b / a) ** 2
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(10):  # converges well under a millimetre in a few rounds
        nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        lat = math.atan2(z + e2 * nu * math.sin(lat), p)
    return lat, math.atan2(y, x)


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


def _project(lat: float, lon: float) -> GridPoint:
    """OSGB36 radians -> National Grid easting/northing (transverse Mercator)."""
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
    return GridPoint(easting, northing)


def wgs84_to_grid(latitude: float, longitude: float) -> GridPoint:
    """WGS84 degrees -> British National Grid metres (within a few metres)."""
    xyz = _cartesian(math.radians(latitude), math.radians(longitude), _WGS_A, _WGS_B)
    lat, lon = _geodetic(*_helmert(*xyz), _AIRY_A, _AIRY_B)
    return _project(lat, lon)


@cache
def _districts() -> dict[str, GridPoint]:
    text = resources.files("services.procurement.data").joinpath("postcode_districts.csv")
    rows = csv.DictReader(io.StringIO(text.read_text(encoding="utf-8")))
    return {r["district"]: GridPoint(float(r["easting"]), float(r["northing"])) for r in rows}


def district_centroid(district: str) -> GridPoint | None:
    """Mean grid position of a postcode district's postcodes (None if unknown)."""
    return _districts().get(district.strip().upper().replace(" ", ""))
