"""`dps demo`: a synthetic but realistic county, loaded only through the public contracts.

Everything goes through the running services' HTTP APIs and the council inbound topic
(`ehc.plans.v1`), never into a database, so the demo also exercises the system:

- about 300 providers across England (names, URNs, postcodes from the district table,
  need types, ages, capacities, day/residential, compliance documents, some expiring),
  activated, with Ofsted history (a few requires improvement or inadequate);
- both regimes side by side: its PCR 2015 DPS (light-touch regime), recorded with its
  original establishment date of 1 September 2021, with a category per need type and
  day/residential (about a third of the providers apply, most are admitted, some
  applications are left open), and its successor, a Procurement Act 2023 dynamic market
  established on 1 September 2025 (dps.demo_market: members admitted, half the call-off
  awards since then made through it, a live call-off with bids);
- EHC plans issued for many pseudonymous children; placement requests for some, which
  open call-off competitions with the members invited (some with bids, all left open);
- ten financial years of placements imported through `POST /placements/import` whose
  committed spend follows a large county's real growth (£27.9m, £34.2m, £39.8m, £49.2m
  for 2017/18-2020/21, then +12% a year to the current year); before the DPS they are
  spot purchases, after it a growing share are DPS awards; reviews due and overdue;
- quality problems for monitoring (incidents, low-attendance KPI returns, poor visits)
  and a budget per financial year.

Deterministic: the same seed (and scale, on the same day) gives the same county and the
same figures; `DemoPlan` (dps.demo_plan) holds them before anything is sent. Running it a second time
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
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from dps.demo_market import establish_market, market_call_off
from dps.demo_plan import (
    DPS_END,
    DPS_START,
    LA_CODE,
    NEED_NAMES,
    NEEDS,
    DemoPlan,
    MarketRequestPlan,
    ProviderPlan,
    RequestPlan,
    make_plan,
    weeks_fee,
)
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from shared.fiscal import financial_year_label
from shared.kafka_security import client_options
from shared.settings import SERVICE_PORTS, CommonSettings

__all__ = ["Demo", "DemoAlreadyLoaded", "DemoPlan", "DemoSummary", "make_plan", "run_demo"]


# --- loading it -------------------------------------------------------------------------

# A call that meets a dead service is tried again this often (about a minute in all).
CALL_TRIES = 10


class DemoAlreadyLoaded(RuntimeError):
    """This seed's county is already in the stack: running the demo again is refused."""


@dataclass
class DemoSummary:
    seed: int
    scale: float
    providers: int = 0
    inspections: int = 0
    scheme_id: str = ""
    market_id: str = ""  # the Procurement Act 2023 dynamic market beside the DPS
    market_members: int = 0
    market_placements: int = 0
    market_call_offs: int = 0
    market_bids: int = 0
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
            await establish_market(self, plan, summary)
            await self._children(plan, summary)
            await self._placements(plan, summary)
            await self._competitions(plan, summary)
            await market_call_off(self, plan, summary)
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
                p.item(plan.providers, summary.scheme_id, summary.market_id)
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

    def _placement_requested(self, r: RequestPlan | MarketRequestPlan, today: date) -> Envelope:
        """The council's request for a placement for ``r``, starting in 60 days."""
        return self._envelope(
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

    async def _competitions(self, plan: DemoPlan, summary: DemoSummary) -> None:
        today = plan.today
        envelopes = []
        for r in plan.requests:
            envelopes.append(self._placement_requested(r, today))
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
                weeks, fee = weeks_fee(
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
            label = financial_year_label(fy)
            summary.spend_by_year[label] = Decimal(str(spend["total"]))
            summary.target_by_year[label] = plan.targets[fy]
        dashboard = await self.call("monitoring", "GET", "/dashboard", token=self.officer)
        summary.reviews_overdue = int(dashboard["reviews_overdue"])
        summary.open_alerts = sum(int(n) for n in dashboard["open_alerts_by_severity"].values())
        for label, amount in summary.spend_by_year.items():
            self.say(f"  {label}: £{amount:,.0f} (target £{summary.target_by_year[label]:,.0f})")
        self.say(
            f"  dynamic market: {summary.market_members} members, {summary.market_placements} "
            f"placements, {summary.market_call_offs} open call-off, {summary.market_bids} bids"
        )
        self.say(
            f"  {summary.open_competitions} open competitions, {summary.bids} bids, "
            f"{summary.reviews_overdue} reviews overdue, {summary.open_alerts} open alerts"
        )


def run_demo(seed: int, scale: float, **options: Any) -> DemoSummary:
    """Load the demo county into the stack named by DPS_URL_<SERVICE> / DPS_KAFKA_BOOTSTRAP
    (defaults: the `dps up` ports); raises DemoAlreadyLoaded if this seed is there already.
    `options` go to Demo (the stack's urls and signing secret, say)."""
    return asyncio.run(Demo(seed, scale, **options).run())
