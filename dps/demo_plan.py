"""The demo county as a plan: its figures and a deterministic DemoPlan made from a seed,
before anything is sent (dps.demo loads it)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.placements import domain as placement_rules
from shared.fiscal import financial_year_of, financial_year_start
from shared.geography import district_table

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
# The county's PCR 2015 DPS, recorded with its original establishment date: no new PCR
# 2015 DPS may be set up from the Procurement Act 2023's go-live, and one set up before
# may not be used after 23 February 2029 (Procurement Act 2023 (Commencement No. 3 and
# Transitional and Saving Provisions) Regulations 2024, as amended; reg 5(4)).
PA2023_GO_LIVE = date(2025, 2, 24)
DPS_START = date(2021, 9, 1)
DPS_END = date(2029, 2, 23)
# Its successor beside it: a Procurement Act 2023 dynamic market (ss. 34-40), established
# after go-live; from then on half the county's new call-off awards go through it.
MARKET_START = date(2025, 9, 1)
MARKET_END = date(2029, 8, 31)
DPS, MARKET = "dps", "market"
# "Other difficulty or disability" (SEN2 OTH): a need the old DPS has no category for,
# the new market does; a request for it is routed to the market (the only open scheme
# with a category for it), so the demo's market call-off comes from a real need.
MARKET_ONLY_NEED = "OTH"
MARKET_ONLY_NAME = "Other difficulty or disability"
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
    in_market: bool = False  # applies to (and is admitted to) the dynamic market
    market_needs: list[str] = field(default_factory=list)  # needs only the market covers

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
            "need_types": [*self.needs, *self.market_needs],
            "contacts": [{"name": "Head teacher", "role": "head"}],
            "documents": self.documents,
        }

    def categories(self) -> list[str]:
        kinds = {"day" if a == "day" else "residential" for a in self.attendance}
        return sorted(f"{need}-{kind}" for need in self.needs for kind in kinds)

    def market_categories(self) -> list[str]:
        """Its categories in the dynamic market: as in the DPS, and the market's own."""
        kinds = {"day" if a == "day" else "residential" for a in self.attendance}
        needs = [*self.needs, *self.market_needs]
        return sorted(f"{need}-{kind}" for need in needs for kind in kinds)


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
    scheme: str = DPS  # which arrangement a "dps_award" was called off: DPS or MARKET

    def item(
        self, providers: Sequence[ProviderPlan], scheme_id: str, market_id: str = ""
    ) -> dict[str, Any]:
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
            body["scheme_ref"] = market_id if self.scheme == MARKET else scheme_id
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
class MarketRequestPlan:
    """The placement request the dynamic market's live call-off comes from: a need the
    old DPS has no category for, shaped around two market members who then bid."""

    child_ref: str
    need: str
    attendance: str
    date_of_birth: date
    district: str
    bidders: list[int]  # provider indices


@dataclass
class MarketPlan:
    members: list[int]  # provider indices admitted to the dynamic market
    request: MarketRequestPlan


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
    market: MarketPlan | None = None


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


def weeks_fee(attendance: str, year: int, rng: random.Random) -> tuple[int, Decimal]:
    inflation = Decimal("1.035") ** (year - FIRST_YEAR)
    if attendance == "residential_52":
        weeks, fee = 52, _money(2900, 5200, rng)
    elif attendance == "residential_38":
        weeks, fee = 38, _money(1800, 3300, rng)
    else:
        weeks, fee = 38, _money(650, 1500, rng)
    return weeks, (fee * inflation).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _start_in(year: int, rng: random.Random, today: date) -> date:
    first = financial_year_start(year)
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
                start = financial_year_start(year)
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
            weeks, fee = weeks_fee(att, year, rng)
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
    targets = year_targets(scale, financial_year_of(today))
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
    plan = DemoPlan(
        seed, scale, today, providers, placements, children, requests, targets, spend, budgets
    )
    plan.market = _market(plan)
    return plan


def _market(plan: DemoPlan) -> MarketPlan:
    """The dynamic market beside the DPS, decided without the random stream so that
    every figure of the DPS county stays as it was: from the market's start every second
    call-off award (in plan order) went through the market, whose providers are members;
    two DPS members offering day places join it too and take its own need (OTH)."""
    awards = [p for p in plan.placements if p.source == "dps_award" and p.start >= MARKET_START]
    for n, placement in enumerate(awards):
        if n % 2 == 1:
            placement.scheme = MARKET
    members = {p.provider for p in plan.placements if p.scheme == MARKET}
    day = [p for p in plan.providers if "day" in p.attendance]
    bidders = ([p for p in day if p.admitted] + [p for p in day if not p.admitted])[:2]
    bidders = bidders or list(plan.providers[:2])
    for p in bidders:
        p.market_needs = [MARKET_ONLY_NEED]
        members.add(p.index)
    for index in members:
        plan.providers[index].in_market = True
    lead = bidders[0]
    age = max(b.age_low for b in bidders)  # the market screens by no age: any will do
    request = MarketRequestPlan(
        child_ref=f"{CHILD_PREFIX}-EHC-M{1:06d}",
        need=MARKET_ONLY_NEED,
        attendance="day",
        date_of_birth=plan.today - timedelta(days=age * 365 + 120),
        district=lead.district,
        bidders=[p.index for p in bidders],
    )
    return MarketPlan(sorted(members), request)
