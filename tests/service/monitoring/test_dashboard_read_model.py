"""The dashboard's spend comes from a read model (spend_total) kept up to date as spend
lines are consumed; GET /dashboard answers exactly as it did when it summed the lines
per request, to the penny and in the same order, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import create_engine, func
from sqlalchemy import select as select_columns
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from dps.services import definition_of
from services.monitoring import domain, store
from services.monitoring.models import AlertRow, PlacementFact, SpendLineRow, SpendTotalRow
from shared.contracts import placements_v1
from shared.contracts.common import NeedType, Role
from shared.db import migrate, sync_url
from shared.envelope import Envelope
from tests.harness import client_for
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring

CENT = Decimal("0.01")
YEARS = range(2023, 2030)  # seven financial years of spend
NEEDS = list(NeedType)
# 2031 has no spend; 2029's is the largest budget the API takes, 2023's has a tenth
# (a budget comes back from SQLite as a float, and is read as its text).
BUDGETS = {
    2023: "0.10",
    2024: "1500000.00",
    2026: "2750000.55",
    2029: "999999999999.99",
    2031: "100.00",
}


def _pence(rng: random.Random) -> str:
    # Amounts to the penny; about one in eight a withdrawn commitment (0).
    return "0.00" if rng.random() < 0.125 else str(Decimal(rng.randint(1, 9_000_000)) / 100)


def _spend_history(rng: random.Random) -> list[Envelope]:
    """Snapshots of 150 placements' and 6 blocks' spend over seven years, every need on
    and off contract, then two rounds of later snapshots (new amounts, withdrawals,
    moves across contract) in random order but each after its line's first."""
    lines: dict[tuple[str, int], tuple[str, str]] = {}  # (id, year) -> (need, line)
    first: list[Envelope] = []
    for i in range(150):
        need = NEEDS[i % len(NEEDS)].value
        start = rng.choice(YEARS)
        for year in range(start, min(start + rng.randint(1, 4), YEARS.stop)):
            on = rng.random() < 0.7
            first.append(events.spend_committed(f"pl-{i}", "p-1", _pence(rng), on, year, need=need))
            lines[f"pl-{i}", year] = (need, "placement")
    for j in range(6):
        year, need = rng.choice(YEARS), rng.choice(NEEDS).value
        first.append(
            events.spend_committed(
                f"block-{j}",
                "p-2",
                _pence(rng),
                True,
                year,
                need=need,
                line="block_unfilled_places",
            )
        )
        lines[f"block-{j}", year] = (need, "block_unfilled_places")
    # Cost per placement on a half penny (1.01 / 2), and a year whose lines are all zero.
    for pid, amount in (("hp-1", "0.50"), ("hp-2", "0.51")):
        first.append(events.spend_committed(pid, "p-1", amount, True, 2029, need="HI"))
    for pid in ("z-1", "z-2"):
        first.append(events.spend_committed(pid, "p-1", "0.00", pid == "z-1", 2030))
    later = []
    for _ in range(2):
        for (pid, year), (need, line) in rng.sample(sorted(lines.items()), 120):
            later.append(
                events.spend_committed(
                    pid, "p-1", _pence(rng), rng.random() < 0.5, year, need=need, line=line
                )
            )
    return first + later


def _reviews(rng: random.Random) -> list[Envelope]:
    """Placement facts with first reviews due from autumn 2025 to 2027, some held; all
    end on 31 July 2028 (events.contract_created)."""
    envelopes = []
    for i in range(0, 150, 2):
        due = date(2025, 10, 1).toordinal() + rng.randint(0, 800)
        envelopes.append(
            events.contract_created(f"pl-{i}", "p-1", review_due=date.fromordinal(due).isoformat())
        )
        if rng.random() < 0.3:
            envelopes.append(events.review_completed(f"pl-{i}", "p-1", date.fromordinal(due)))
    return envelopes


def _records(envelopes: Sequence[Envelope], offset: int) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord(placements_v1.TOPIC, 0, at, 0, 0, e.key, e.to_bytes(), None, 0, 0, ())
        for at, e in enumerate(envelopes, start=offset)
    ]


async def _consume(
    monitoring: Monitoring, envelopes: Sequence[Envelope], rng: random.Random
) -> None:
    """Apply through monitoring's consumer in batches of 1 to 60 events: one line often
    changes more than once in one transaction."""
    consumer = next(c for c in monitoring.runtime.consumers if c.topic == placements_v1.TOPIC)
    done = 0
    while done < len(envelopes):
        size = rng.randint(1, 60)
        await consumer.process(_records(envelopes[done : done + size], done))
        done += size


async def _as_before(
    session: AsyncSession, year: int, day: date, budgets: dict[int, Decimal]
) -> dict[str, Any]:
    """GET /dashboard's answer as assembled before the read model (a frozen copy of that
    code): years summed by SQL, the selected year's lines summed here, reviews read."""
    t = SpendLineRow
    totals = await session.execute(
        select_columns(col(t.financial_year), col(t.on_contract), func.sum(col(t.amount))).group_by(
            col(t.financial_year), col(t.on_contract)
        )
    )
    spend: dict[int, Decimal] = defaultdict(Decimal)
    on_contract: dict[int, Decimal] = defaultdict(Decimal)
    for line_year, on, total in totals:
        spend[line_year] += Decimal(total).quantize(CENT)
        if on:
            on_contract[line_year] += Decimal(total).quantize(CENT)
    years = [
        domain.YearSpend(
            financial_year=y,
            label=domain.financial_year_label(y),
            spend=spend[y],
            on_contract_spend=on_contract[y],
            budget=budgets.get(y),
            variance=None if budgets.get(y) is None else spend[y] - budgets[y],
        )
        for y in sorted(set(spend) | set(budgets))
    ]
    selected = next((row for row in years if row.financial_year == year), None)
    share = None
    if selected is not None and selected.spend > 0:
        share = float(selected.on_contract_spend / selected.spend)
    need_spend: dict[NeedType, Decimal] = defaultdict(Decimal)
    placements: dict[NeedType, set[str]] = defaultdict(set)
    lines = await session.execute(
        select_columns(col(t.placement_id), col(t.primary_need), col(t.amount), col(t.line)).where(
            col(t.financial_year) == year
        )
    )
    for placement_id, need, amount, line in lines:
        if Decimal(amount) == 0:
            continue
        need_spend[NeedType(need)] += Decimal(amount)
        if line == "placement":
            placements[NeedType(need)].add(placement_id)
    f = PlacementFact
    facts = await session.execute(
        select_columns(col(f.placement_id), col(f.review_due_on), col(f.ends_on)).where(
            col(f.review_completed_on).is_(None)
        )
    )
    overdue = sorted(
        {
            placement_id
            for placement_id, due, ends in facts
            if due is not None and day > due and (ends is None or ends >= day)
        }
    )
    alerts = Counter(
        domain.Severity(severity)
        for severity, status in await session.execute(
            select_columns(col(AlertRow.severity), col(AlertRow.status))
        )
        if status != "resolved"
    )
    dashboard = domain.Dashboard(
        as_of=day,
        financial_year=year,
        spend_by_year=tuple(years),
        on_contract_share=share,
        cost_per_placement_by_need={
            need: domain.NeedCost(
                need=need,
                placements=len(placements[need]),
                spend=need_spend[need],
                cost_per_placement=(need_spend[need] / max(len(placements[need]), 1)).quantize(
                    CENT
                ),
            )
            for need in sorted(need_spend)
        },
        open_alerts_by_severity={s: alerts.get(s, 0) for s in domain.Severity},
        reviews_overdue=len(overdue),
        overdue_review_placements=tuple(overdue),
    )
    return dashboard.model_dump(mode="json")


async def test_the_dashboard_from_the_read_model_is_the_one_from_the_lines(
    monitoring: Monitoring, tokens: dict[Role, str]
) -> None:
    rng = random.Random(20)
    await _consume(monitoring, _spend_history(rng) + _reviews(rng), rng)
    async with client_for(monitoring.runtime, tokens[Role.COMMISSIONER]) as client:
        for year, amount in BUDGETS.items():
            set_budget = await client.put(f"/budgets/{year}", json={"amount": amount})
            assert set_budget.status_code == 200, set_budget.text
        budgets = {year: Decimal(amount) for year, amount in BUDGETS.items()}
        answers = 0
        for day in (date(2026, 1, 12), date(2027, 6, 1), date(2028, 9, 1)):
            for year in range(2022, 2032):
                got = await client.get(
                    "/dashboard", params={"financial_year": year, "as_of": day.isoformat()}
                )
                assert got.status_code == 200, got.text
                async with monitoring.runtime.db.session() as session:
                    expected = await _as_before(session, year, day, budgets)
                answer = got.json()
                assert answer == expected, (year, day)
                assert list(answer["cost_per_placement_by_need"]) == list(
                    expected["cost_per_placement_by_need"]
                )
                answers += bool(answer["cost_per_placement_by_need"])
    assert answers == 3 * 7  # seven years of spend by need, seen on three days
    assert set(await _needs_with_spend(monitoring)) == set(NEEDS)
    # The read model holds no line twice, nor loses one, whatever moved across contract.
    async with monitoring.runtime.db.session() as session:
        counted = await session.execute(select_columns(func.sum(col(SpendTotalRow.lines))))
        held = await session.execute(select_columns(func.count()).select_from(SpendLineRow))
        assert counted.scalar() == held.scalar()


async def _needs_with_spend(monitoring: Monitoring) -> set[NeedType]:
    async with monitoring.runtime.db.session() as session:
        return {
            total.primary_need
            for year in YEARS
            for total in (await store.dashboard_figures(session, year, date(2026, 1, 1))).needs
        }


def test_the_migration_sums_the_lines_consumed_before_it(
    database_url: Callable[[str], str],
) -> None:
    url = database_url("backfill")
    migrations = definition_of("monitoring").migrations_dir
    migrate(url, migrations, "0015")
    rng = random.Random(16)
    lines = [
        domain.SpendLine(
            placement_id=f"pl-{i}",
            provider_id="p-1",
            primary_need=NEEDS[i % len(NEEDS)],
            financial_year=rng.choice(YEARS),
            amount=Decimal(_pence(rng)),
            on_contract=rng.random() < 0.6,
            line="placement" if i % 10 else "block_unfilled_places",
        )
        for i in range(400)
    ]
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        connection.execute(
            SpendLineRow.__table__.insert(),  # type: ignore[attr-defined]
            [
                line.model_dump()
                | {"primary_need": line.primary_need.value, "updated_at": datetime.now(UTC)}
                for line in lines
            ],
        )
    migrate(url, migrations)
    with engine.connect() as connection:
        t = SpendTotalRow
        held = connection.execute(
            select_columns(
                col(t.financial_year),
                col(t.primary_need),
                col(t.on_contract),
                col(t.lines),
                col(t.placements),
                col(t.pence),
            )
        ).all()
    engine.dispose()
    expected: dict[tuple[int, str, bool], list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in lines:
        total = expected[line.financial_year, line.primary_need.value, line.on_contract]
        total[0] += 1
        total[1] += line.line == "placement" and line.amount > 0
        total[2] += int(line.amount * 100)
    assert {tuple(row) for row in held} == {(*key, *total) for key, total in expected.items()}
