"""HTTP route searching the register: filters as SQL (store), distance in Python; a page
answered before is answered again while the register is unchanged."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response
from pydantic import TypeAdapter
from sqlmodel.ext.asyncio.session import AsyncSession

from services.provider_registry import domain, store
from services.provider_registry.api.bodies import ProviderHit, ProviderPage, search_view
from services.provider_registry.policy import ALLOWED
from shared import geography
from shared.api_types import BoundedInt, Offset
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.providers_v1 import OfstedJudgement, ProviderStatus
from shared.errors import DomainError, RulesBroken
from shared.kept_answers import KeptAnswers
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

router = APIRouter(tags=["providers"])

MAX_PAGE = 200


# Search pages already answered, as sent, by the register's version
# (`store.register_state`: the database raises it on every change to a provider), so a
# page is answered again only while no provider has changed since. A page of 50 is
# about 40 KB.
PAGES: KeptAnswers[bytes] = KeptAnswers(len)
_PAGE = TypeAdapter(ProviderPage)


def _search_of(
    need: list[NeedType],
    age: int | None,
    attendance: Attendance | None,
    statuses: list[ProviderStatus],
    min_ofsted: OfstedJudgement | None,
    near: str | None,
    within_km: float | None,
) -> domain.ProviderSearch:
    point = None
    if near is not None:
        point = geography.locate(near)
        if point is None:
            raise DomainError("near", "must be a known UK postcode or postcode district")
    search = domain.ProviderSearch(
        need_types=frozenset(need),
        age=age,
        attendance=attendance,
        statuses=frozenset(statuses),
        minimum_judgement=min_ofsted,
        near=point,
        within_km=within_km,
    )
    errors = domain.validate_search(search)
    if errors:
        raise RulesBroken(errors)
    return search


@router.get("/providers", response_model=ProviderPage)
async def search_providers(
    need: list[NeedType] = Query(default=[], description="every one must be met"),
    age: BoundedInt | None = None,
    attendance: Attendance | None = None,
    status_: list[ProviderStatus] = Query(default=[], alias="status"),
    min_ofsted: OfstedJudgement | None = Query(default=None, description="at least this good"),
    near: str | None = Query(default=None, description="postcode or district, e.g. ME14 1XX"),
    within_km: float | None = None,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: Offset = 0,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Response:
    """Search the register; with `near`, nearest first (distance from the district centroid)."""
    search = _search_of(need, age, attendance, status_, min_ofsted, near, within_km)
    today = date.today()
    # Who sees what: a provider sees its own record in full and others' public fields.
    viewer = (actor.role == Role.PROVIDER.value, actor.provider_id)
    key = (search, limit, offset, today, viewer)
    async with runtime.db.session() as session:
        state = await store.register_state(session)
        body = PAGES.get(state, key)
        if body is None:
            body = await _page(session, search, limit, offset, actor, today)
            PAGES.put(state, key, body)
    return Response(body, media_type="application/json")


async def _page(
    session: AsyncSession,
    search: domain.ProviderSearch,
    limit: int,
    offset: int,
    actor: Actor,
    today: date,
) -> bytes:
    if search.near is None:
        total, page = await store.page_by_name(session, search, limit, offset)
    else:
        total, page = await store.page_by_distance(session, search, limit, offset)
    items = [
        ProviderHit(
            provider=search_view(provider, actor, today),
            distance_km=None if distance is None else round(distance, 3),
        )
        for provider, distance in page
    ]
    return _PAGE.dump_json(ProviderPage(total=total, limit=limit, offset=offset, items=items))
