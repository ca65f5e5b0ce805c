"""Procurement figures: evaluating a 200-bid call-off, and call-offs closed per second.

Run: ``python -m bench.procurement [--bids 200] [--repeat 30] [--competitions 200]``.
Each figure is printed next to a baseline measured in the same run on the same machine:
sorting 200 floats for the evaluation, a no-op workflow for the worker's throughput.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from faststream.kafka import KafkaBroker
from sqlmodel import col, select
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from dps import processes
from dps.services import definition_of
from services.procurement import domain as d
from services.procurement.activities import activities
from services.procurement.clocks import start_competition_workflow
from services.procurement.commands import evaluate_row, finish_evaluation
from services.procurement.models import (
    CompetitionRow,
    EvaluatorScoreRow,
    ProviderRow,
    bid_row,
    competition_row,
    competition_to_domain,
    evaluator_scores_to_domain,
    invitation_row,
    membership_row,
    scheme_row,
    set_aside_of,
)
from services.procurement.store import live_bids
from services.procurement.workflows import WORKFLOWS
from shared import temporal
from shared.contracts.common import Attendance, NeedType
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import settings_for
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date

NOW = datetime.now(UTC)
TODAY = london_date(NOW)
FIT = d.QualityQuestion("fit", "Fit", 10, 1)


# ----------------------------------------------------------------- fixtures


def make_scheme() -> d.Scheme:
    draft = d.Scheme(
        scheme_id=str(uuid.uuid4()),
        reference=f"BENCH-{uuid.uuid4().hex[:8]}",
        title="Bench DPS",
        regime=d.RegimeCode.PCR2015_LIGHT_TOUCH,
        term_start=TODAY - timedelta(days=10),
        term_end=TODAY + timedelta(days=900),
        categories=(
            d.Category("asd", "ASD day", frozenset({NeedType.ASD}), frozenset({Attendance.DAY})),
        ),
        selection_questions=(),
        established_on=date(2024, 12, 2),  # a PCR 2015 DPS predates the 2023 Act's go-live
        award_criteria=d.AwardCriteria(60, 40, (FIT,)),
    )
    return d.open_scheme(d.create_scheme(draft), TODAY)


def make_members(scheme: d.Scheme, n: int) -> list[d.Membership]:
    return [
        d.Membership(
            scheme.scheme_id,
            f"p-{i:04d}",
            "asd",
            None,
            Decimal(random.randint(30, 100)),
            TODAY,
            "a",
        )
        for i in range(n)
    ]


def make_providers(n: int) -> list[ProviderRow]:
    far = (TODAY + timedelta(days=365)).isoformat()
    return [
        ProviderRow(
            provider_id=f"p-{i:04d}",
            status="active",
            need_types=["ASD"],
            attendance=["day"],
            age_low=5,
            age_high=18,
            documents=[{"kind": k.value, "expires_on": far} for k in d.DocumentKind],
            documents_valid=True,
            updated_at=NOW,
        )
        for i in range(n)
    ]


def make_competition(scheme: d.Scheme, members: list[d.Membership]) -> d.Competition:
    spec = d.CompetitionSpec(
        competition_id=str(uuid.uuid4()),
        scheme_id=scheme.scheme_id,
        category_code="asd",
        kind=d.CompetitionKind.INDIVIDUAL,
        title="Bench call-off",
        filter=d.FilterCriteria(NeedType.ASD, Attendance.DAY),
        quality_weight=60,
        price_weight=40,
        quality_questions=(FIT,),
        need_ref=str(uuid.uuid4()),
    )
    providers = {
        m.provider_id: d.ProviderSnapshot(
            m.provider_id, True, frozenset({NeedType.ASD}), frozenset({Attendance.DAY}), 5, 18
        )
        for m in members
    }
    documents = {
        m.provider_id: tuple(
            d.ComplianceDocument(k, TODAY + timedelta(days=365)) for k in d.DocumentKind
        )
        for m in members
    }
    return d.open_competition(
        scheme,
        spec,
        deadline_at=NOW + timedelta(days=11),
        memberships=members,
        providers=providers,
        documents=documents,
        now=NOW,
    )


def make_bids(c: d.Competition, members: list[d.Membership]) -> list[d.Bid]:
    return [
        d.Bid(
            bid_id=str(uuid.uuid4()),
            competition_id=c.competition_id,
            round=1,
            offer=d.BidOffer(
                provider_id=m.provider_id,
                fee_basis=d.FeeBasis.WEEKLY,
                core_fee=Decimal(random.randint(120000, 300000)) / 100,
                weeks_per_year=38,
                start_date=TODAY + timedelta(days=30),
                answers={"fit": "yes"},
            ),
            submitted_at=NOW + timedelta(seconds=i),
        )
        for i, m in enumerate(members)
    ]


# --------------------------------------------------------- evaluation timing


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_pure_evaluation(bids: int, repeat: int) -> tuple[float, float]:
    """p50 ms of moderating two evaluators' scores and ranking ``bids`` bids, and of
    sorting as many floats."""
    scheme = make_scheme()
    members = make_members(scheme, bids)
    c = replace(make_competition(scheme, members), status=d.CompetitionStatus.EVALUATION)
    all_bids = make_bids(c, members)
    entries = [
        d.EvaluatorScores(b.bid_id, evaluator, {"fit": Decimal(random.randint(0, 10))}, NOW)
        for b in all_bids
        for evaluator in ("eve", "ann")
    ]
    evaluation, baseline = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        assessments = d.evaluator_assessments(c, all_bids, {}, entries)
        d.evaluate_competition(c, all_bids, assessments)
        evaluation.append(time.perf_counter() - started)
        floats = [random.random() for _ in range(bids)]
        started = time.perf_counter()
        sorted(floats)
        baseline.append(time.perf_counter() - started)
    return p50(evaluation), p50(baseline)


def bench_runtime(data_dir: Path, temporal_address: str = "127.0.0.1:1") -> ServiceRuntime:
    settings = settings_for(
        "procurement",
        database_url=f"sqlite+aiosqlite:///{data_dir / 'procurement.db'}",
        data_dir=data_dir,
        kafka_bootstrap="127.0.0.1:1",
        temporal_address=temporal_address,
        jwt_secret="bench-secret-0123456789abcdef0123456789",
    )
    runtime = ServiceRuntime(
        definition_of("procurement"),
        settings,
        frozenset({ProcessRole.WORKER}),
        use_temporal=False,
        watch_broker=False,
        shared_broker=KafkaBroker(),
    )
    runtime.migrate()
    return runtime


async def seed(
    runtime: ServiceRuntime, scheme: d.Scheme, members: list[d.Membership], bids: int
) -> str:
    """One open call-off, past its deadline, with ``bids`` live bids; returns its id."""
    c = make_competition(scheme, members)
    async with runtime.db.transaction() as session:
        row = competition_row(c)
        row.deadline_at = NOW - timedelta(seconds=1)
        session.add(row)
        await session.flush()
        session.add_all([invitation_row(c.competition_id, i) for i in c.invitations])
        session.add_all([bid_row(b) for b in make_bids(c, members[:bids])])
    return c.competition_id


async def seed_scheme(runtime: ServiceRuntime, n: int) -> tuple[d.Scheme, list[d.Membership]]:
    scheme = make_scheme()
    members = make_members(scheme, n)
    async with runtime.db.transaction() as session:
        session.add(scheme_row(scheme, "bench"))
        await session.flush()
        session.add_all(make_providers(n))
        session.add_all([membership_row(m) for m in members])
    return scheme, members


async def time_stored_evaluation(bids: int, repeat: int) -> tuple[float, float]:
    """p50 ms on SQLite of the deadline activity (load, compliance check, close into
    ``evaluation``, outbox) and of ranking the stored evaluator scores (load, moderate,
    score, store, outbox), rolled back after each repetition."""
    evaluator = Actor(id="bench-evaluator", role="commissioner")
    with tempfile.TemporaryDirectory() as scratch:
        runtime = bench_runtime(Path(scratch))
        scheme, members = await seed_scheme(runtime, bids)
        competition_id = await seed(runtime, scheme, members, bids)
        closing, ranking = [], []
        for _ in range(repeat):
            async with runtime.db.session() as session:
                transaction = await session.begin()
                uow = UnitOfWork(session, runtime.source)
                started = time.perf_counter()
                row = await session.get(CompetitionRow, competition_id)
                assert row is not None
                await evaluate_row(uow, row, NOW)
                await session.flush()
                closing.append(time.perf_counter() - started)
                current = await live_bids(uow, row)
                session.add_all(
                    EvaluatorScoreRow(
                        competition_id=competition_id,
                        bid_id=b.bid_id,
                        round=row.round,
                        evaluator=evaluator.id,
                        scores={"fit": str(random.randint(0, 10))},
                        scored_at=NOW,
                    )
                    for b in current
                )
                await session.flush()
                started = time.perf_counter()
                scores = (
                    await session.exec(
                        select(EvaluatorScoreRow).where(
                            EvaluatorScoreRow.competition_id == competition_id
                        )
                    )
                ).all()
                c = competition_to_domain(row, [])
                finish_evaluation(
                    uow,
                    row,
                    c,
                    await live_bids(uow, row),
                    set_aside_of(row),
                    [evaluator_scores_to_domain(x) for x in scores],
                    evaluator,
                    NOW,
                )
                await session.flush()
                ranking.append(time.perf_counter() - started)
                await transaction.rollback()
        await runtime.db.dispose()
    return p50(closing), p50(ranking)


# -------------------------------------------------------------- throughput


@workflow.defn(name="bench.noop", sandboxed=False)
class NoOpWorkflow:
    """Baseline: a workflow that does nothing."""

    @workflow.run
    async def run(self) -> str:
        return "done"


async def noop_rate(client: Client, n: int) -> float:
    queue = f"bench-noop-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[NoOpWorkflow]):
        started = time.perf_counter()
        handles = await asyncio.gather(
            *(
                client.start_workflow(NoOpWorkflow.run, id=f"noop-{uuid.uuid4()}", task_queue=queue)
                for _ in range(n)
            )
        )
        await asyncio.gather(*(h.result() for h in handles))
        return n / (time.perf_counter() - started)


async def close_rate(client: Client, data_dir: Path, n: int, bids: int) -> float:
    """Call-offs closed per second by one CompetitionWorkflow worker (into
    ``evaluation``, where the evaluators take over: the timer's share of the work)."""
    runtime = bench_runtime(data_dir)
    runtime.temporal = client
    scheme, members = await seed_scheme(runtime, bids)
    ids = [await seed(runtime, scheme, members, bids) for _ in range(n)]
    # SQLite has one writer: more concurrent activities than connections only queue on
    # its lock (and time out into Temporal retries), so cap them at the pool's size.
    worker = Worker(
        client,
        task_queue=runtime.settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities(runtime),
        max_concurrent_activities=5,
    )
    async with worker:
        started = time.perf_counter()
        await asyncio.gather(*(start_competition_workflow(runtime, i, NOW) for i in ids))
        await eventually(lambda: _all_evaluated(runtime, n))
        elapsed = time.perf_counter() - started
    await runtime.db.dispose()
    return n / elapsed


async def _all_evaluated(runtime: ServiceRuntime, n: int) -> bool:
    return await _evaluated(runtime) >= n


async def eventually(check: Callable[[], Awaitable[bool]], interval: float = 0.05) -> None:
    """Poll a database condition (the workflows report through the database)."""
    while True:
        if await check():
            return
        await asyncio.sleep(interval)


async def _evaluated(runtime: ServiceRuntime) -> int:
    from sqlmodel import func

    async with runtime.db.session() as session:
        query = (
            select(func.count())
            .select_from(CompetitionRow)
            .where(col(CompetitionRow.status).in_(["evaluation", "evaluated"]))
        )
        return int((await session.exec(query)).one())


async def throughput(n: int, bids: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        port, ui_port = processes.free_port(), processes.free_port()
        server = processes.temporal_server(port, ui_port, root / "temporal.db", root)
        server.start()
        try:
            processes.wait_for_port(server, port, timeout=60)
            client = await temporal.connect(f"127.0.0.1:{port}")
            baseline = await noop_rate(client, n)
            rate = await close_rate(client, root, n, bids)
        finally:
            server.stop()
    return rate, baseline


# ------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bids", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--competitions", type=int, default=200)
    parser.add_argument("--bids-per-competition", type=int, default=5)
    args = parser.parse_args()
    random.seed(4)

    pure, sort_baseline = time_pure_evaluation(args.bids, args.repeat)
    closing, ranking = asyncio.run(time_stored_evaluation(args.bids, max(5, args.repeat // 3)))
    print(f"evaluation of a {args.bids}-bid call-off, p50 of {args.repeat}:")
    print(
        f"  moderate 2 evaluators, score and rank (pure) {pure:9.3f} ms   baseline sort "
        f"{args.bids} floats {sort_baseline:.3f} ms"
    )
    print(f"  deadline activity (SQLite)     {closing:9.3f} ms   (load, compliance, close, outbox)")
    print(f"  rank evaluator scores (SQLite) {ranking:9.3f} ms   (load, moderate, score, store)")
    rate, noop = asyncio.run(throughput(args.competitions, args.bids_per_competition))
    print(
        f"call-offs closed per second ({args.competitions}, {args.bids_per_competition} bids each, "
        f"one worker, Temporal dev server):"
    )
    print(
        f"  CompetitionWorkflow close at deadline {rate:7.1f} /s   baseline no-op workflow (unsandboxed) "
        f"{noop:.1f} /s"
    )


if __name__ == "__main__":
    main()
