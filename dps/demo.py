"""`dps demo`: a synthetic but realistic county, loaded only through the public contracts.

Everything goes through the running services' HTTP APIs and the council inbound topic
(`ehc.plans.v1`), never into a database, so the demo also exercises the system:

- about 300 providers across England (names, URNs, postcodes from the district table,
  need types, ages, capacities, day/residential, compliance documents, some expiring),
  activated, with Ofsted history (a few requires improvement or inadequate);
- a DPS (light-touch regime) with a category per need type and day/residential; about a
  third of the providers apply, most are admitted, some applications are left open;
- EHC plans issued for many pseudonymous children; placement requests for some, which
  open call-off competitions with the members invited (some with bids, all left open);
- ten financial years of placements imported through `POST /placements/import` whose
  committed spend follows a large county's real growth (£27.9m, £34.2m, £39.8m, £49.2m
  for 2017/18-2020/21, then +12% a year to the current year); before the DPS they are
  spot purchases, after it a growing share are DPS awards; reviews due and overdue;
- quality problems for monitoring (incidents, low-attendance KPI returns, poor visits)
  and a budget per financial year.

Deterministic: the same seed (and scale, on the same day) gives the same county and the
same figures; `DemoPlan` holds them before anything is sent. Running it a second time
against a stack that holds it is refused (`DemoAlreadyLoaded`): the first placement
import key (`demo-<seed>-...`) is found, so nothing is written twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from services.placements import domain as placement_rules
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from shared.geography import district_table
from shared.kafka_security import client_options
from shared.settings import SERVICE_PORTS, CommonSettings

# --- the county's figures ----------------------------------------------------------------

FIRST_YEAR = 2017
# Committed NMISS spend of a large county (DESIGN.md): 2017/18 .. 2020/21.
REAL_SPEND = {
    2017: Decimal("27911115"),
    2018: Decimal("34200000"),
    2019: Decimal("39800000"),
    2020: Decimal("49244606"),
}
GROWTH_AFTER = Decimal("1.12")
OPENING = Decimal(
    "0.8"
)  # share of the first year's spend from placements already running  # +12% a year after 2020/21
FULL_PROVIDERS = 300
FULL_CHILDREN_WITH_PLANS = 3000  # ehc.plan.issued events (children without a placement)
FULL_PLACEMENT_REQUESTS = 24
LA_CODE = "886"
CHILD_PREFIX = "DEMO"
DPS_START = date(2021, 9, 1)
DPS_END = date(2029, 2, 23)
NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD", "SpLD", "HI", "VI", "MSI", "PD")
NEED_WEIGHTS = (38, 26, 9, 6, 6, 3, 4, 2, 2, 1, 3)
NEED_NAMES = {
    "ASD": "Autism",
    "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SpLD": "Specific learning difficulty",
    "HI": "Hearing impairment",
    "VI": "Visual impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
}
# England only: Scottish, Welsh and Northern Irish postcode areas are left out.
NOT_ENGLAND = {
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH",
    "TD", "ZE", "CF", "LD", "LL", "NP", "SA", "BT", "GY", "JE", "IM",
}  # fmt: skip
PLACES = (
    "Oakfield", "Beechwood", "Hillside", "Meadowbank", "Riverside", "Ashgrove", "Fairfield",
    "Brookside", "Westwood", "Elmhurst", "Highcroft", "Larkrise", "Millbrook", "Northgate",
    "Kingsmead", "Hazelwood", "Stonebridge", "Willowdene", "Cedar Park", "Foxhill",
    "Holly Bank", "Orchard", "Springfield", "Thornbury", "Woodlands", "Greenacre",
    "Heathfield", "Longmeadow", "Marlborough", "Parkview", "Redhill", "Silverdale",
    "Summerfield", "Valley View", "Brambles", "Chestnut", "Fernhill", "Glebe", "Harbour",
    "Lime Tree", "Moorlands", "Pinewood", "Rowan", "St Aidan's", "St Hilda's", "Whitecross",
)  # fmt: skip
KINDS = ("School", "College", "Academy", "House School", "Learning Centre", "Park School")
OWNERS = ("Education Ltd", "Care and Education Ltd", "Trust", "Schools Group Ltd", "Foundation")
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def year_targets(scale: float, current_year: int) -> dict[int, Decimal]:
    """Committed spend to reach per financial year (scaled)."""
    targets: dict[int, Decimal] = {}
    amount = Decimal(0)
    for year in range(FIRST_YEAR, current_year + 1):
        amount = REAL_SPEND[year] if year in REAL_SPEND else amount * GROWTH_AFTER
        targets[year] = amount
    factor = Decimal(str(scale))
    return {y: (a * factor).quantize(Decimal("1")) for y, a in targets.items()}


# --- the plan ---------------------------------------------------------------------------


# A call that meets a dead service is tried again this often (about a minute in all).
CALL_TRIES = 10


@dataclass
class ProviderPlan:
    index: int
    urn: int
    name: str
    proprietor: str
    district: str
    postcode: str
    latitude: float
    longitude: float
    age_low: int
    age_high: int
    attendance: list[str]
    needs: list[str]
    capacity: int
    documents: list[dict[str, str]]
    inspections: list[dict[str, str]]
    applies: bool = False
    admitted: bool = False
    provider_id: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "name": self.name,
            "proprietor": self.proprietor,
            "provider_type": "independent_special_school",
            "address": f"{1 + self.index % 97} School Lane, {self.district}",
            "postcode": self.postcode,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "age_low": self.age_low,
            "age_high": self.age_high,
            "attendance": self.attendance,
            "capacity": self.capacity,
            "places_in_use": int(self.capacity * 0.7),
            "need_types": self.needs,
            "contacts": [{"name": "Head teacher", "role": "head"}],
            "documents": self.documents,
        }

    def categories(self) -> list[str]:
        kinds = {"day" if a == "day" else "residential" for a in self.attendance}
        return sorted(f"{need}-{kind}" for need in self.needs for kind in kinds)


@dataclass
class PlacementPlan:
    child_ref: str
    provider: int  # index into providers
    need: str
    attendance: str
    start: date
    end: date | None
    fee: Decimal
    weeks: int
    source: str
    next_review_due: date | None

    def item(self, providers: Sequence[ProviderPlan], scheme_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "child_ref": self.child_ref,
            "provider_id": providers[self.provider].provider_id,
            "primary_need": self.need,
            "attendance": self.attendance,
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat() if self.end else None,
            "weekly_core_fee": str(self.fee),
            "weeks_per_year": self.weeks,
            "notice_period_weeks": 12,
            "source": self.source,
            "next_review_due": self.next_review_due.isoformat() if self.next_review_due else None,
        }
        if self.source == "dps_award":
            body["scheme_ref"] = scheme_id
            body["competition_ref"] = f"HIST-{self.child_ref}"
        return body


@dataclass
class RequestPlan:
    child_ref: str
    provider: int  # the member the request is shaped around (so it is eligible)
    need: str
    attendance: str
    date_of_birth: date
    district: str
    bids: int


@dataclass
class DemoPlan:
    seed: int
    scale: float
    today: date
    providers: list[ProviderPlan]
    placements: list[PlacementPlan]
    plan_children: list[tuple[str, str, date, str]]  # child_ref, need, dob, district
    requests: list[RequestPlan]
    targets: dict[int, Decimal]
    spend: dict[int, Decimal]  # exactly what the placements ledger will hold
    budgets: dict[int, Decimal]


def committed(p: PlacementPlan, today: date) -> dict[int, Decimal]:
    """The spend the service commits for an imported placement (same rules)."""
    last_day = p.end if p.end is not None else open_term_end(p.start, today)
    fee = placement_rules.FeeChange(
        effective_from=p.start,
        kind=placement_rules.FeeChangeKind.AWARD,
        by="demo",
        at=datetime.now(UTC),
        reason="award",
        core=p.fee,
    )
    return placement_rules.apportion_by_financial_year((fee,), p.start, last_day, p.weeks)


def open_term_end(start: date, today: date) -> date:
    """Mirror of the import route's default: the end of the current three-year term."""
    term_end = placement_rules.add_years(start, 3) - timedelta(days=1)
    while term_end < today:
        term_end = placement_rules.add_years(term_end + timedelta(days=1), 3) - timedelta(days=1)
    return term_end


def _english_districts() -> list[tuple[str, float, float]]:
    rows = []
    for name, d in sorted(district_table().items()):
        area = name[:2] if name[1:2].isalpha() else name[:1]
        if area in NOT_ENGLAND:
            continue
        if d.postcodes < 200 or d.latitude > 55.82 or d.longitude < -5.8:
            continue  # non-geographic and very small districts
        rows.append((name, d.latitude, d.longitude))
    return rows


def _money(low: int, high: int, rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(low, high, 5)).quantize(Decimal("0.01"))


def _providers(rng: random.Random, n: int, today: date) -> list[ProviderPlan]:
    districts = _english_districts()
    urns = rng.sample(range(800000, 899999), n)
    names: set[str] = set()
    out = []
    for i in range(n):
        while True:
            name = f"{rng.choice(PLACES)} {rng.choice(KINDS)}"
            if name not in names:
                break
            name = f"{name} {rng.choice(('North', 'South', 'East', 'West', 'Upper'))}"
            if name not in names:
                break
        names.add(name)
        district, lat, lon = rng.choice(districts)
        postcode = f"{district} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        low, high = rng.choice([(5, 11), (7, 16), (7, 19), (11, 16), (11, 19), (4, 19), (8, 18)])
        first = rng.choices(NEEDS, NEED_WEIGHTS)[0]
        others = rng.sample([n for n in NEEDS if n != first], rng.choice([0, 1, 1, 2]))
        roll = rng.random()
        attendance = (
            ["day"]
            if roll < 0.6
            else ["day", "residential_38"]
            if roll < 0.85
            else ["day", "residential_52"]
            if roll < 0.95
            else ["residential_38", "residential_52"]
        )
        documents = []
        for kind in ("insurance", "safeguarding_policy", "financial_check"):
            days = rng.randint(120, 900)
            if rng.random() < 0.06:
                days = rng.randint(5, 40)  # expiring soon
            documents.append(
                {"kind": kind, "expires_on": (today + timedelta(days=days)).isoformat()}
            )
        inspections = []
        when = today - timedelta(days=rng.randint(2300, 2900))
        for _ in range(rng.randint(1, 3)):
            when += timedelta(days=rng.randint(500, 1100))
            if when >= today:
                break
            inspections.append({"inspected_on": when.isoformat(), "overall": _judgement(rng)})
        out.append(
            ProviderPlan(
                index=i,
                urn=urns[i],
                name=name,
                proprietor=f"{name.split()[0]} {rng.choice(OWNERS)}",
                district=district,
                postcode=postcode,
                latitude=round(lat, 5),
                longitude=round(lon, 5),
                age_low=low,
                age_high=high,
                attendance=attendance,
                needs=[first, *others],
                capacity=rng.randrange(24, 220, 2),
                documents=documents,
                inspections=inspections,
                applies=rng.random() < 0.34,
            )
        )
    for p in out:
        p.admitted = p.applies and rng.random() < 0.8
    return out


def _judgement(rng: random.Random) -> str:
    return rng.choices(
        ["outstanding", "good", "requires_improvement", "inadequate"], [20, 66, 10, 4]
    )[0]


def _weeks_fee(attendance: str, year: int, rng: random.Random) -> tuple[int, Decimal]:
    inflation = Decimal("1.035") ** (year - FIRST_YEAR)
    if attendance == "residential_52":
        weeks, fee = 52, _money(2900, 5200, rng)
    elif attendance == "residential_38":
        weeks, fee = 38, _money(1800, 3300, rng)
    else:
        weeks, fee = 38, _money(650, 1500, rng)
    return weeks, (fee * inflation).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _start_in(year: int, rng: random.Random, today: date) -> date:
    first = placement_rules.financial_year_start(year)
    if rng.random() < 0.55:  # most placements start with the school year
        start = date(year, 9, 1) + timedelta(days=rng.randint(0, 10))
    else:
        start = first + timedelta(days=rng.randint(0, 364))
    return min(start, today - timedelta(days=1))


def _placements(
    rng: random.Random,
    providers: Sequence[ProviderPlan],
    targets: dict[int, Decimal],
    today: date,
) -> tuple[list[PlacementPlan], dict[int, Decimal]]:
    """Placements added year by year until each year's committed spend reaches its target."""
    by_kind: dict[tuple[str, str], list[int]] = {}
    for p in providers:
        weight = 1 + int(rng.paretovariate(1.6))  # a few providers take many children
        for need in p.needs:
            for att in p.attendance:
                by_kind.setdefault((need, att), []).extend([p.index] * weight)
    spend: dict[int, Decimal] = {}
    out: list[PlacementPlan] = []
    for year in sorted(targets):
        while spend.get(year, Decimal(0)) < targets[year]:
            need = rng.choices(NEEDS, NEED_WEIGHTS)[0]
            att = rng.choices(["day", "residential_38", "residential_52"], [86, 9, 5])[0]
            pool = by_kind.get((need, att)) or by_kind.get((need, "day"))
            if not pool:
                continue
            provider = rng.choice(pool)
            if att not in providers[provider].attendance:
                att = "day"
            # The records begin on 1 April of the first year: the placements running then
            # (the opening stock) are imported from that day, with what remained of them.
            opening = year == FIRST_YEAR and spend.get(year, Decimal(0)) < targets[year] * OPENING
            if opening:
                start = placement_rules.financial_year_start(year)
                days = int(rng.triangular(150, 1900, 500))
            else:
                start = _start_in(year, rng, today)
                days = int(rng.triangular(300, 2600, 1100))
            last = start + timedelta(days=days)
            last = date(last.year, 7, 20) if last.month in (7, 8) else last
            end: date | None = last
            review: date | None = None
            if last >= today:
                end = None
                review = _review_due(rng, today)
            weeks, fee = _weeks_fee(att, year, rng)
            dps_share = 0.0 if start < DPS_START else min(0.5, 0.15 + 0.07 * (year - 2021))
            source = "dps_award" if rng.random() < dps_share else "spot"
            placement = PlacementPlan(
                child_ref=f"{CHILD_PREFIX}-EHC-{len(out) + 1:06d}",
                provider=provider,
                need=need,
                attendance=att,
                start=start,
                end=end,
                fee=fee,
                weeks=weeks,
                source=source,
                next_review_due=review,
            )
            out.append(placement)
            for fy, amount in committed(placement, today).items():
                spend[fy] = spend.get(fy, Decimal(0)) + amount
    return out, spend


def _review_due(rng: random.Random, today: date) -> date:
    roll = rng.random()
    if roll < 0.07:
        return today - timedelta(days=rng.randint(1, 75))  # overdue
    if roll < 0.2:
        return today + timedelta(days=rng.randint(0, 42))  # due within six weeks
    return today + timedelta(days=rng.randint(43, 364))


def make_plan(seed: int, scale: float, today: date | None = None) -> DemoPlan:
    """The whole county, decided before anything is sent (pure and deterministic)."""
    if not 0 < scale <= 2:
        raise ValueError("scale must be above 0 and at most 2")
    today = today or datetime.now(UTC).date()
    rng = random.Random(seed)
    providers = _providers(rng, max(12, round(FULL_PROVIDERS * scale)), today)
    targets = year_targets(scale, placement_rules.financial_year_of(today))
    placements, spend = _placements(rng, providers, targets, today)
    children = []
    for i in range(max(20, round(FULL_CHILDREN_WITH_PLANS * scale))):
        dob = today - timedelta(days=rng.randint(5 * 365, 18 * 365))
        children.append(
            (
                f"{CHILD_PREFIX}-EHC-P{i + 1:06d}",
                rng.choices(NEEDS, NEED_WEIGHTS)[0],
                dob,
                rng.choice(providers).district,
            )
        )
    members = [p for p in providers if p.admitted]
    requests = []
    for i in range(max(3, round(FULL_PLACEMENT_REQUESTS * scale))):
        member = members[i % len(members)] if members else providers[0]
        age = rng.randint(member.age_low, member.age_high)
        requests.append(
            RequestPlan(
                child_ref=f"{CHILD_PREFIX}-EHC-R{i + 1:06d}",
                provider=member.index,
                need=member.needs[0],
                attendance=member.attendance[0],
                date_of_birth=today - timedelta(days=age * 365 + 120),
                district=member.district,
                bids=rng.choice([0, 1, 2, 2]),
            )
        )
    budgets = {
        y: (targets[y] * Decimal(str(rng.uniform(0.94, 1.04)))).quantize(Decimal("1000"))
        for y in targets
    }
    return DemoPlan(
        seed, scale, today, providers, placements, children, requests, targets, spend, budgets
    )


# --- loading it -------------------------------------------------------------------------


class DemoAlreadyLoaded(RuntimeError):
    """This seed's county is already in the stack: running the demo again is refused."""


@dataclass
class DemoSummary:
    seed: int
    scale: float
    providers: int = 0
    inspections: int = 0
    scheme_id: str = ""
    categories: int = 0
    applications: int = 0
    members: int = 0
    applications_open: int = 0
    children_with_plans: int = 0
    placement_requests: int = 0
    open_competitions: int = 0
    invitations: int = 0
    bids: int = 0
    placements: int = 0
    active_placements: int = 0
    reviews_overdue: int = 0
    incidents: int = 0
    kpi_returns: int = 0
    visits: int = 0
    budgets: int = 0
    open_alerts: int = 0
    spend_by_year: dict[str, Decimal] = field(default_factory=dict)
    target_by_year: dict[str, Decimal] = field(default_factory=dict)
    elapsed_s: float = 0.0


def _default_urls() -> dict[str, str]:
    return {
        name: os.environ.get(f"DPS_URL_{name.upper()}", f"http://127.0.0.1:{port}")
        for name, port in SERVICE_PORTS.items()
    }


def _claim_left_by_dead_process(response: httpx.Response) -> bool:
    if response.status_code != 409:
        return False
    try:
        problems = response.json().get("detail") or []
    except ValueError:
        return False
    return any(isinstance(p, dict) and p.get("rule") == "in_progress" for p in problems)


def _ok(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: "
            f"{response.status_code} {response.text[:500]}"
        )
    return response.json()


class Demo:
    """Loads a DemoPlan into a running stack through HTTP and `ehc.plans.v1`."""

    def __init__(
        self,
        seed: int = 1,
        scale: float = 1.0,
        *,
        urls: dict[str, str] | None = None,
        kafka_bootstrap: str | None = None,
        secret: str | None = None,
        progress: Callable[[str], None] = print,
        concurrency: int = 12,
        wait_s: float = 600.0,
    ) -> None:
        settings = CommonSettings()
        self.seed = seed
        self.scale = scale
        self.urls = urls or _default_urls()
        self.kafka = kafka_bootstrap or settings.kafka_bootstrap
        self.kafka_options = client_options(settings)
        self.secret = secret or settings.signing_secret()
        self.say = progress
        self.limit = asyncio.Semaphore(concurrency)
        self.wait_s = wait_s
        self.commissioner = issue_token(self.secret, Role.COMMISSIONER, subject="demo-commissioner")
        self.officer = issue_token(self.secret, Role.MONITORING_OFFICER, subject="demo-officer")
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._ids: list[str] = []  # imported placement ids, in plan order

    # -- plumbing

    def client(self, service: str) -> httpx.AsyncClient:
        if service not in self._clients:
            # A service restarted by `dps up`'s supervisor mid-load refuses connections for
            # a few seconds: connect errors (nothing was sent) are retried with backoff.
            transport = httpx.AsyncHTTPTransport(retries=8)
            self._clients[service] = httpx.AsyncClient(
                base_url=self.urls[service], timeout=120, transport=transport
            )
        return self._clients[service]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Any:
        headers = {"Authorization": f"Bearer {token or self.commissioner}"}
        if method != "GET":
            # One key for every try of this call: a service that died after acting on it
            # (and was restarted by the supervisor) answers the retry with the first
            # answer instead of acting twice (shared/idempotency.py).
            headers["Idempotency-Key"] = str(uuid.uuid4())
        for attempt in range(CALL_TRIES):
            try:
                async with self.limit:
                    response = await self.client(service).request(
                        method, path, json=json, params=params, headers=headers
                    )
            except httpx.TransportError:
                if attempt == CALL_TRIES - 1:
                    raise
                await asyncio.sleep(min(2**attempt * 0.5, 8))
                continue
            if attempt and _claim_left_by_dead_process(response):
                # The process that held the key died mid-call: its claim outlives it for
                # minutes. The demo's writes carry their own natural keys (import keys,
                # URNs), so a fresh key is safe: what was written is found, not doubled.
                headers["Idempotency-Key"] = str(uuid.uuid4())
                continue
            break
        return _ok(response, *expect)

    async def until(self, what: str, check: Callable[[], Awaitable[Any]]) -> Any:
        deadline = time.monotonic() + self.wait_s
        while True:
            value = await check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"demo: {what} not reached within {self.wait_s:.0f}s")
            await asyncio.sleep(0.5)

    async def each(
        self, items: Iterable[Any], action: Callable[[Any], Awaitable[Any]]
    ) -> list[Any]:
        return list(await asyncio.gather(*(action(i) for i in items)))

    # -- the run

    async def run(self) -> DemoSummary:
        started = time.monotonic()
        plan = make_plan(self.seed, self.scale)
        summary = DemoSummary(seed=self.seed, scale=self.scale)
        try:
            await self._refuse_if_loaded(plan)
            self.say(
                f"demo seed {self.seed} scale {self.scale}: {len(plan.providers)} providers, "
                f"{len(plan.placements)} placements, {len(plan.plan_children)} EHC plans"
            )
            await self._providers(plan, summary)
            await self._scheme(plan, summary)
            await self._children(plan, summary)
            await self._placements(plan, summary)
            await self._competitions(plan, summary)
            await self._quality(plan, summary)
            await self._budgets(plan, summary)
            await self._figures(plan, summary)
        finally:
            for c in self._clients.values():
                await c.aclose()
        summary.elapsed_s = round(time.monotonic() - started, 1)
        self.say(f"demo loaded in {summary.elapsed_s}s")
        return summary

    def _import_key(self, batch: int) -> str:
        return f"demo-{self.seed}-{self.scale}-{batch}"

    async def _refuse_if_loaded(self, plan: DemoPlan) -> None:
        first = plan.placements[0].child_ref
        held = await self.call("placements", "GET", "/placements", params={"child_ref": first})
        if held["total"]:
            raise DemoAlreadyLoaded(
                f"the demo county (seed {self.seed}) is already loaded in this stack "
                f"({first} has a placement); start from an empty stack to load it again"
            )

    async def _providers(self, plan: DemoPlan, summary: DemoSummary) -> None:
        self.say(f"registering {len(plan.providers)} providers with Ofsted history ...")

        async def register(p: ProviderPlan) -> None:
            made = await self.call(
                "provider_registry", "POST", "/providers", json=p.body(), expect=(201,)
            )
            p.provider_id = made["provider_id"]
            await self.call(
                "provider_registry",
                "POST",
                f"/providers/{p.provider_id}/status",
                json={"status": "active", "reason": "registration checks complete"},
            )
            for inspection in p.inspections:
                await self.call(
                    "provider_registry",
                    "POST",
                    f"/providers/{p.provider_id}/inspections",
                    json=inspection,
                    expect=(201,),
                )

        await self.each(plan.providers, register)
        summary.providers = len(plan.providers)
        summary.inspections = sum(len(p.inspections) for p in plan.providers)

    async def _scheme(self, plan: DemoPlan, summary: DemoSummary) -> None:
        categories = [
            {
                "code": f"{need}-{kind}",
                "name": f"{NEED_NAMES[need]}, {kind}",
                "need_types": [need],
                "attendance": ["day"] if kind == "day" else ["residential_38", "residential_52"],
            }
            for need in NEEDS
            for kind in ("day", "residential")
        ]
        scheme = await self.call(
            "procurement",
            "POST",
            "/schemes",
            json={
                "reference": f"DEMO-NMISS-DPS-{self.seed}",
                "title": "Non-maintained and independent special school placements DPS",
                "regime": "pcr2015_light_touch",
                "term_start": DPS_START.isoformat(),
                "term_end": DPS_END.isoformat(),
                "established_on": DPS_START.isoformat(),  # before the Procurement Act 2023
                # As Kent's notice did: call-offs screen by age and distance (reg 76).
                "narrowing_published": True,
                "categories": categories,
            },
            expect=(201,),
        )
        summary.scheme_id = str(scheme["scheme_id"])
        summary.categories = len(categories)
        applicants = [p for p in plan.providers if p.applies]
        self.say(f"DPS {summary.scheme_id}: {len(applicants)} providers apply ...")

        async def apply(p: ProviderPlan) -> None:
            token = issue_token(self.secret, Role.PROVIDER, provider_id=p.provider_id)
            body = {"requested_categories": p.categories()}
            headers = {"Authorization": f"Bearer {token}"}
            path = f"/schemes/{summary.scheme_id}/applications"

            async def submitted() -> Any:  # procurement learns of providers via providers.v1
                async with self.limit:
                    r = await self.client("procurement").post(path, json=body, headers=headers)
                if r.status_code == 201:
                    return r.json()
                if r.status_code not in (404, 409, 422):
                    _ok(r, 201)
                return None

            application = await self.until(f"application of {p.name}", submitted)
            if p.admitted:
                await self.call(
                    "procurement",
                    "POST",
                    f"/applications/{application['application_id']}/decision",
                    json={},
                )

        await self.each(applicants, apply)
        summary.applications = len(applicants)
        summary.members = sum(p.admitted for p in applicants)
        summary.applications_open = summary.applications - summary.members

    async def _publish(self, envelopes: Sequence[Envelope]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.kafka, acks="all", linger_ms=20, **self.kafka_options
        )
        await producer.start()
        try:
            # As a council would: CloudEvents structured mode, keyed by the child reference.
            headers = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
            sent = [
                await producer.send("ehc.plans.v1", e.to_bytes(), key=e.key, headers=headers)
                for e in envelopes
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    def _envelope(self, event_type: str, child_ref: str, data: dict[str, Any]) -> Envelope:
        return Envelope(
            type=event_type,
            source=f"council/{LA_CODE}/send-case-system",
            subject=child_ref,
            data={"child_ref": child_ref, "la_code": LA_CODE, **data},
        )

    async def _children(self, plan: DemoPlan, summary: DemoSummary) -> None:
        today = plan.today
        envelopes = []
        for ref, need, dob, district in plan.plan_children:
            issued = today - timedelta(days=(dob.toordinal() % 300) + 30)
            envelopes.append(
                self._envelope(
                    "ehc.plan.issued",
                    ref,
                    {
                        "date_of_birth": dob.isoformat(),
                        "primary_need": need,
                        "postcode_district": district,
                        "ehc_plan": {
                            "issued_on": issued.isoformat(),
                            "next_review_due": (issued + timedelta(days=364)).isoformat(),
                        },
                    },
                )
            )
        self.say(f"publishing {len(envelopes)} ehc.plan.issued events ...")
        await self._publish(envelopes)
        summary.children_with_plans = len(envelopes)

    async def _placements(self, plan: DemoPlan, summary: DemoSummary) -> None:
        batch = 250
        total = len(plan.placements)
        self.say(f"importing {total} existing placements (spot and DPS awards) ...")
        self._ids = []
        for n, first in enumerate(range(0, total, batch)):
            items = [
                p.item(plan.providers, summary.scheme_id)
                for p in plan.placements[first : first + batch]
            ]
            done = await self.call(
                "placements",
                "POST",
                "/placements/import",
                json={"import_key": self._import_key(n), "placements": items},
                expect=(200, 201),
            )
            self._ids.extend(done["placement_ids"])
            self.say(f"  {min(first + batch, total)}/{total}")
        summary.placements = total
        summary.active_placements = sum(p.end is None for p in plan.placements)

    async def _competitions(self, plan: DemoPlan, summary: DemoSummary) -> None:
        today = plan.today
        envelopes = []
        for r in plan.requests:
            envelopes.append(
                self._envelope(
                    "ehc.placement.requested",
                    r.child_ref,
                    {
                        "date_of_birth": r.date_of_birth.isoformat(),
                        "primary_need": r.need,
                        "attendance": r.attendance,
                        "postcode_district": r.district,
                        "required_start": (today + timedelta(days=60)).isoformat(),
                        "urgent": False,
                        "ehc_plan": {
                            "issued_on": (today - timedelta(days=90)).isoformat(),
                            "next_review_due": (today + timedelta(days=275)).isoformat(),
                        },
                    },
                )
            )
        self.say(f"publishing {len(envelopes)} ehc.placement.requested events ...")
        await self._publish(envelopes)

        async def opened(r: RequestPlan) -> dict[str, Any]:
            async def need() -> Any:
                found = await self.call(
                    "placements", "GET", "/needs", params={"child_ref": r.child_ref}
                )
                return found["items"]

            need_id = (await self.until(f"need of {r.child_ref}", need))[0]["need_id"]

            async def competition() -> Any:
                async with self.limit:
                    got = await self.client("procurement").get(
                        f"/competitions/need-{need_id}",
                        headers={"Authorization": f"Bearer {self.commissioner}"},
                    )
                return got.json() if got.status_code == 200 else None

            return dict(await self.until(f"competition for {r.child_ref}", competition))

        competitions = await self.each(plan.requests, opened)
        by_id = {p.provider_id: p for p in plan.providers}
        for r, comp in zip(plan.requests, competitions, strict=True):
            invited = sorted(i["provider_id"] for i in comp.get("invitations", []))
            summary.invitations += len(invited)
            if comp.get("status") == "open":
                summary.open_competitions += 1
            for provider_id in invited[: r.bids]:
                token = issue_token(self.secret, Role.PROVIDER, provider_id=provider_id)
                provider = by_id.get(provider_id)
                att = (
                    r.attendance
                    if provider is None or r.attendance in provider.attendance
                    else "day"
                )
                weeks, fee = _weeks_fee(
                    att, today.year, random.Random(f"{r.child_ref}{provider_id}")
                )
                questions = [q.get("question_id") for q in comp.get("quality_questions", [])] or [
                    "fit"
                ]
                async with self.limit:
                    made = await self.client("procurement").post(
                        f"/competitions/{comp['competition_id']}/bids",
                        headers={"Authorization": f"Bearer {token}"},
                        json={
                            "fee_basis": "weekly",
                            "core_fee": str(fee),
                            "weeks_per_year": weeks,
                            "start_date": (today + timedelta(days=60)).isoformat(),
                            "answers": {
                                q: "Small classes, on-site therapy team" for q in questions
                            },
                        },
                    )
                if made.status_code == 201:
                    summary.bids += 1
                else:
                    self.say(f"  bid refused ({made.status_code}): {made.text[:200]}")
        summary.placement_requests = len(plan.requests)

    async def _quality(self, plan: DemoPlan, summary: DemoSummary) -> None:
        rng = random.Random(self.seed * 7919 + 1)
        active = [p for p in plan.placements if p.end is None]
        self.say("waiting for monitoring to learn of the placements ...")
        active_ids = [
            pid for p, pid in zip(plan.placements, self._ids, strict=True) if p.end is None
        ]

        async def known() -> bool:
            dashboard = await self.call("monitoring", "GET", "/dashboard", token=self.officer)
            held = {
                int(y["financial_year"]): Decimal(str(y["spend"]))
                for y in dashboard["spend_by_year"]
            }
            return all(held.get(fy) == amount for fy, amount in plan.spend.items())

        await self.until("monitoring to hold every placement's spend", known)
        today = plan.today
        term = f"{today.year}-{'spring' if today.month < 4 else 'summer' if today.month < 8 else 'autumn'}"
        low = rng.sample(range(len(active)), max(2, len(active) // 40))
        for i in low:
            await self.call(
                "monitoring",
                "POST",
                "/kpi-returns",
                token=self.officer,
                json={
                    "placement_id": active_ids[i],
                    "term": term,
                    "attendance_pct": round(rng.uniform(48, 79), 1),
                    "exclusions": rng.randint(0, 3),
                    "incidents": rng.randint(0, 4),
                    "outcomes_progress": rng.choice(["partly", "not_met"]),
                    "submitted_on": today.isoformat(),
                },
                expect=(201,),
            )
        summary.kpi_returns = len(low)
        providers = sorted({active[i].provider for i in range(len(active))})
        troubled = rng.sample(providers, max(2, len(providers) // 25))
        for k, index in enumerate(troubled):
            provider_id = plan.providers[index].provider_id
            await self.call(
                "monitoring",
                "POST",
                "/incidents",
                token=self.officer,
                json={
                    "provider_id": provider_id,
                    "category": "safeguarding" if k % 3 == 0 else "complaint",
                    "severity": ["high", "medium", "low"][k % 3],
                    "occurred_on": (today - timedelta(days=rng.randint(1, 40))).isoformat(),
                    "summary": "Restraint not recorded; parent complaint about supervision",
                },
                expect=(201,),
            )
            await self.call(
                "monitoring",
                "POST",
                "/visits",
                token=self.officer,
                json={
                    "provider_id": provider_id,
                    "visited_on": (today - timedelta(days=rng.randint(1, 60))).isoformat(),
                    "rating": 3 + k % 2,
                    "findings": "Behaviour plans out of date; staffing below the agreed ratio",
                },
                expect=(201,),
            )
        summary.incidents = summary.visits = len(troubled)

    async def _budgets(self, plan: DemoPlan, summary: DemoSummary) -> None:
        for fy, amount in sorted(plan.budgets.items()):
            await self.call(
                "monitoring",
                "PUT",
                f"/budgets/{fy}",
                json={"amount": str(amount), "reason": "approved high needs block budget (demo)"},
            )
        summary.budgets = len(plan.budgets)

    async def _figures(self, plan: DemoPlan, summary: DemoSummary) -> None:
        for fy in sorted(plan.spend):
            if fy not in plan.targets:
                continue  # years after the current one: commitments only
            spend = await self.call("placements", "GET", "/spend", params={"financial_year": fy})
            label = placement_rules.financial_year_label(fy)
            summary.spend_by_year[label] = Decimal(str(spend["total"]))
            summary.target_by_year[label] = plan.targets[fy]
        dashboard = await self.call("monitoring", "GET", "/dashboard", token=self.officer)
        summary.reviews_overdue = int(dashboard["reviews_overdue"])
        summary.open_alerts = sum(int(n) for n in dashboard["open_alerts_by_severity"].values())
        for label, amount in summary.spend_by_year.items():
            self.say(f"  {label}: £{amount:,.0f} (target £{summary.target_by_year[label]:,.0f})")
        self.say(
            f"  {summary.open_competitions} open competitions, {summary.bids} bids, "
            f"{summary.reviews_overdue} reviews overdue, {summary.open_alerts} open alerts"
        )


def run_demo(seed: int, scale: float, **options: Any) -> DemoSummary:
    """Load the demo county into the stack named by DPS_URL_<SERVICE> / DPS_KAFKA_BOOTSTRAP
    (defaults: the `dps up` ports); raises DemoAlreadyLoaded if this seed is there already.
    `options` go to Demo (the stack's urls and signing secret, say)."""
    return asyncio.run(Demo(seed, scale, **options).run())
