"""Distance search through the route (SQL box prefilter, exact distance on the
survivors, the page read as columns) answers exactly what the brute-force domain search
over every provider answers: the same providers, in the same order, at the same
distances, for points just inside and just outside the radius and near the box corners."""

from __future__ import annotations

import math
import random
import uuid
from typing import Any

import httpx
import pytest

from services.provider_registry import domain
from services.provider_registry.api.bodies import ProviderIn
from services.provider_registry.models import new_row
from shared import geography
from shared.contracts.common import NeedType
from shared.contracts.providers_v1 import ProviderStatus
from shared.runtime import ServiceRuntime
from tests.fixtures import provider_body

NEAR = "ME14 1XX"


def _destination(start: domain.Point, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` from `start` on `bearing` (degrees), on the haversine's sphere."""
    reach = km / domain.EARTH_RADIUS_KM
    lat1, lon1, theta = (math.radians(v) for v in (start.latitude, start.longitude, bearing))
    lat2 = math.asin(
        math.sin(lat1) * math.cos(reach) + math.cos(lat1) * math.sin(reach) * math.cos(theta)
    )
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(reach) * math.cos(lat1),
        math.cos(reach) - math.sin(lat1) * math.sin(lat2),
    )
    return math.degrees(lat2), math.degrees(lon2)


def _places(centre: domain.Point) -> list[tuple[float, float]]:
    rng = random.Random(20)
    places = []
    # Just inside and just outside 40 km, all round (the box's edges at 0/90/180/270).
    for bearing in range(0, 360, 15):
        for km in (39.99, 39.9999, 40.0001, 40.01):
            places.append(_destination(centre, km, bearing))
    # Near the box's corners: outside the circle, inside (or just outside) the box.
    for bearing in (45, 135, 225, 315):
        for km in (40 * math.sqrt(2) - 0.01, 40 * math.sqrt(2) + 0.01, 41.0, 50.0):
            places.append(_destination(centre, km, bearing + rng.uniform(-0.5, 0.5)))
    # Where the circle is widest in longitude (a little poleward of due east and west).
    widest = math.degrees(math.asin(math.sin(40 / domain.EARTH_RADIUS_KM)))
    for side in (1, -1):
        for dlat in (-0.01, 0.0, 0.01):
            lon = centre.longitude + side * widest / math.cos(math.radians(centre.latitude))
            places.append((centre.latitude + dlat, lon))
    # And a scatter from the centre out to 150 km.
    places += [_destination(centre, rng.uniform(0, 150), rng.uniform(0, 360)) for _ in range(80)]
    return places


async def _seed(registry: ServiceRuntime, places: list[tuple[float, float]]) -> list[Any]:
    providers = []
    for index, (latitude, longitude) in enumerate(places):
        needs = ["ASD", "SEMH"] if index % 3 else ["SEMH"]
        body = provider_body(
            urn=500000 + index,
            name=f"School {index % 40:02d}",  # shared names: ties broken by id
            latitude=round(latitude, 7),
            longitude=round(longitude, 7),
            need_types=needs,
        )
        status = ProviderStatus.ACTIVE if index % 5 else ProviderStatus.REGISTERED
        providers.append(
            domain.Provider(
                provider_id=str(uuid.UUID(int=random.Random(index).getrandbits(128))),
                details=ProviderIn(**body).to_draft(),
                status=status,
                latest_inspection=None,
            )
        )
    async with registry.db.session() as session:
        session.add_all(new_row(p) for p in providers)
        await session.commit()
    return providers


async def _answer(client: httpx.AsyncClient, params: dict[str, Any]) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    total = None
    while total is None or len(found) < total:
        response = await client.get(
            "/providers", params={**params, "limit": 7, "offset": len(found)}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        total = page["total"]
        assert page["items"], (total, len(found))
        found += [(i["provider"]["provider_id"], i["distance_km"]) for i in page["items"]]
    return found


@pytest.mark.parametrize(
    ("within_km", "need", "status"),
    [
        (40, "ASD", None),
        (40, None, None),
        (40, "ASD", "active"),
        (150, None, None),
        (0.5, None, None),
        (None, "ASD", None),
    ],
)
async def test_distance_search_equals_the_brute_force_answer(
    registry: ServiceRuntime,
    commissioner: httpx.AsyncClient,
    within_km: float | None,
    need: str | None,
    status: str | None,
) -> None:
    centre = geography.locate(NEAR)
    assert centre is not None
    providers = await _seed(registry, [(centre.latitude, centre.longitude), *_places(centre)])
    params: dict[str, Any] = {"near": NEAR}
    if within_km is not None:
        params["within_km"] = within_km
    if need is not None:
        params["need"] = need
    if status is not None:
        params["status"] = status
    search = domain.ProviderSearch(
        need_types=frozenset({NeedType(need)}) if need else frozenset(),
        statuses=frozenset({ProviderStatus(status)}) if status else frozenset(),
        near=centre,
        within_km=within_km,
    )
    expected = [
        (hit.provider.provider_id, round(hit.distance_km, 3))
        for hit in domain.search_providers(providers, search)
    ]
    assert expected  # the seed puts someone within every radius asked
    assert await _answer(commissioner, params) == expected


def test_the_box_never_shuts_out_a_point_the_circle_lets_in() -> None:
    """Up to the poles and the antimeridian: no box where none can be smaller than the
    world, and otherwise every point just inside the radius is inside the box."""
    from services.provider_registry.store import _bounding_box

    rng = random.Random(7)
    for _ in range(300):
        centre = domain.Point(rng.uniform(-89, 89), rng.uniform(-179, 179))
        km = rng.choice([0.1, 5, 40, 400, 2000, 9000])
        box = _bounding_box(centre, km)
        if box is None:
            continue
        (lat_low, lat_high), (lon_low, lon_high) = (
            (clause.right.clauses[0].value, clause.right.clauses[1].value) for clause in box.clauses
        )
        for bearing in range(0, 360, 5):
            latitude, longitude = _destination(centre, km * (1 - 1e-12), bearing)
            assert lat_low <= latitude <= lat_high, (centre, km, bearing)
            assert lon_low <= longitude <= lon_high, (centre, km, bearing)
