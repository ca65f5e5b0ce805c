"""National replay benchmark: every EHC plan in England (about 640,000 `ehc.plan.issued`)
and a year of amendments, annual reviews and cessations, ingested by ONE placements
consumer process, next to a raw aiokafka consume of the same messages on the same broker.

Each size runs on a fresh Tansu broker and a fresh SQLite database in a temporary
directory. The events are seeded (the same flags give the same bytes), produced with
pre-serialised envelopes in large per-partition batches keyed by child reference (so a
child's events keep their order), in the order a council feed would carry them: the stock
of issued plans first, then the year's updates day by day, interleaved across children.

The placements consumer is its own OS process, so its peak resident memory (VmHWM from
/proc) is its own. `--launcher bench` (default) runs the consumer role exactly as
`dps service placements --role consumer` builds it, minus the Temporal connection that
`run_service` makes unconditionally (the EHC handlers only use Temporal when a child has
placements, and none has here); `--launcher dps` runs the real command against a Temporal
dev server. Ingest time runs from the first offset the service's consumer group commits
to the moment its committed offsets reach every partition's end (`committed()`, polled
every 0.2 s from outside the group, against the ends the produce responses gave: Tansu's
`end_offsets()` is wrong for batched producers, see `produce`); the events applied
before the first commit are left out of the rate, not guessed.

    python -m bench.national_replay [--sizes 10000,100000,640000] [--reviews-per-plan 1.0]
        [--amendments-per-plan 0.25] [--ceased-per-plan 0.02] [--seed 1]
        [--launcher bench|dps] [--profile DIR] [--keep]

Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from array import array
from bisect import bisect
from collections import Counter
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import RecordMetadata

from bench import report as bench_report
from bench.ehc_ingest import raw_consume
from dps import processes
from shared.bus import ensure_topics
from shared.contracts import ehc_plans_v1
from shared.envelope import decode_envelope

TOPIC = ehc_plans_v1.TOPIC
SECRET = "bench-secret-0123456789abcdef0123456789"
POLL_S = 0.2
YEAR_START = date(2025, 1, 1)  # the replayed year of updates
YEAR_DAYS = 365
STOCK_FROM = date(2014, 9, 1)  # EHC plans began in September 2014
STOCK_TO = date(2024, 12, 31)
NEEDS = ("ASD", "SLCN", "SEMH", "MLD", "SLD", "SpLD", "PD", "PMLD", "HI", "VI", "MSI", "OTH")
NEED_CUM = tuple(accumulate((33, 21, 18, 8, 6, 3, 3, 1.5, 1.5, 1, 0.3, 3.7)))
ATTENDANCE = ("day", "residential_38", "residential_52")
ATTENDANCE_CUM = tuple(accumulate((94, 4, 2)))
LA_CODES = ("886", "919", "330", "850", "937", "936", "352", "855", "373", "931")
DISTRICTS = (
    "ME14", "CT1", "TN23", "DA1", "SE1", "B1", "M1", "LS1", "BS1", "NE1",
    "SW1A", "E1", "NG1", "L1", "S1", "CB1", "OX1", "PL1", "EX1", "YO1",
)  # fmt: skip
AMENDED, REVIEWED, CEASED = 0, 1, 2
HOUR_OF = {AMENDED: 10, REVIEWED: 13, CEASED: 16}  # council working hours, per kind
TARGET_S, TARGET_MIB, LINEAR_RATIO = 90.0, 300.0, 1.25  # issue 20
NATIONAL_PLANS = 640_000  # England, January 2025: 638,745 EHC plans


# ==========================================================================================
# Deterministic event generation
# ==========================================================================================


@dataclass(frozen=True)
class Mix:
    """Updates in the replayed year, per issued plan (fractions are drawn per child)."""

    reviews_per_plan: float = 1.0
    amendments_per_plan: float = 0.25
    ceased_per_plan: float = 0.02


@dataclass
class Feed:
    """Generates one size's events in feed order; counts what it generated."""

    plans: int
    mix: Mix
    seed: int
    counts: Counter[str] = field(default_factory=Counter)
    days: list[array[int]] = field(init=False)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.days = [array("I") for _ in range(YEAR_DAYS)]  # child * 4 + kind, per day

    def messages(self) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs: every issued plan, then the year's updates day by day."""
        for index in range(self.plans):
            yield self._issued(index)
        for day in range(YEAR_DAYS):
            order = list(self.days[day])
            self.days[day] = array("I")
            self.rng.shuffle(order)  # councils' updates interleave across children
            for code in order:
                yield self._update(code >> 2, code & 3, day)

    # -- the stock of plans ---------------------------------------------------------------
    def _issued(self, index: int) -> tuple[bytes, bytes]:
        rng = self.rng
        issued_on = STOCK_FROM + timedelta(days=rng.randrange((STOCK_TO - STOCK_FROM).days))
        born = issued_on - timedelta(days=rng.randrange(2 * 365, 19 * 365))
        review_day = self._schedule(index, _anniversary_day(issued_on))
        primary = _pick(rng, NEEDS, NEED_CUM)
        data: dict[str, object] = {
            "child_ref": child_ref(index),
            "la_code": la_of(index),
            "date_of_birth": born.isoformat(),
            "primary_need": primary,
            "secondary_needs": _secondary(rng, primary),
            "attendance": _pick(rng, ATTENDANCE, ATTENDANCE_CUM),
            "postcode_district": rng.choice(DISTRICTS),
            "ehc_plan": {
                "issued_on": issued_on.isoformat(),
                "next_review_due": (YEAR_START + timedelta(days=review_day)).isoformat(),
            },
        }
        return self._envelope(
            index, "ehc.plan.issued", f"{issued_on}T09:{index % 60:02d}:00Z", data
        )

    def _schedule(self, index: int, anniversary: int) -> int:
        """Put this child's updates on distinct days of the year; the review day back."""
        rng = self.rng
        taken: set[int] = set()
        reviews = _draw(rng, self.mix.reviews_per_plan)
        amendments = _draw(rng, self.mix.amendments_per_plan)
        for number in range(reviews + amendments):
            day = anniversary + rng.randint(-14, 14) if number == 0 else rng.randrange(YEAR_DAYS)
            day = min(max(day, 0), YEAR_DAYS - 1)
            while day in taken:
                day = rng.randrange(YEAR_DAYS)
            taken.add(day)
            self.days[day].append(index * 4 + (REVIEWED if number < reviews else AMENDED))
        last = max(taken, default=-1)
        if rng.random() < self.mix.ceased_per_plan and last < YEAR_DAYS - 1:
            self.days[rng.randint(last + 1, YEAR_DAYS - 1)].append(index * 4 + CEASED)
        return anniversary

    # -- the year of updates --------------------------------------------------------------
    def _update(self, index: int, kind: int, day: int) -> tuple[bytes, bytes]:
        on = YEAR_START + timedelta(days=day)
        at = f"{on}T{HOUR_OF[kind]:02d}:{self.rng.randrange(60):02d}:{self.rng.randrange(60):02d}Z"
        if kind == REVIEWED:
            next_due = on + timedelta(days=365)
            review: dict[str, object] = {
                "reviewed_on": on.isoformat(),
                "next_review_due": next_due.isoformat(),
            }
            return self._envelope(index, "ehc.plan.reviewed", at, review)
        if kind == CEASED:
            return self._envelope(index, "ehc.plan.ceased", at, {"ceased_on": on.isoformat()})
        return self._envelope(index, "ehc.plan.amended", at, self._amendment(on))

    def _amendment(self, on: date) -> dict[str, object]:
        rng = self.rng
        change = rng.randrange(4)
        if change == 0:  # need re-assessed
            primary = _pick(rng, NEEDS, NEED_CUM)
            return {"primary_need": primary, "secondary_needs": _secondary(rng, primary)}
        if change == 1:  # moved house
            return {"postcode_district": rng.choice(DISTRICTS)}
        if change == 2:  # residential provision agreed, or back to day
            return {"attendance": _pick(rng, ATTENDANCE, ATTENDANCE_CUM)}
        next_due = on + timedelta(days=365)  # re-issued after the amendment
        return {"ehc_plan": {"issued_on": on.isoformat(), "next_review_due": next_due.isoformat()}}

    def _envelope(
        self, index: int, event_type: str, at: str, data: dict[str, object]
    ) -> tuple[bytes, bytes]:
        """Pre-serialised CloudEvents JSON (what `Envelope.to_bytes` gives, made faster:
        every attribute is plain ASCII, so only `data` goes through the encoder)."""
        self.counts[event_type] += 1
        ref = child_ref(index)
        data.setdefault("child_ref", ref)
        value = (
            f'{{"specversion":"1.0","id":"{_uuid4(self.rng)}","type":"{event_type}",'
            f'"source":"council/{la_of(index)}/send-case-system","time":"{at}",'
            f'"subject":"{ref}","datacontenttype":"application/json",'
            f'"data":{_compact(data)}}}'
        )
        return ref.encode(), value.encode()


_compact = json.JSONEncoder(separators=(",", ":")).encode


def _uuid4(rng: random.Random) -> str:
    bits = (rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC << 60)) | (0x4000 << 64) | (0x8 << 60)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def code_fingerprint() -> str:
    """A short hash of the code the placements process imports (others edit it meanwhile)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1()
    for path in sorted([*root.glob("services/placements/*.py"), *root.glob("shared/*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:7]


def child_ref(index: int) -> str:
    return f"C{la_of(index)}-EHC-{index:07d}"


def la_of(index: int) -> str:
    return LA_CODES[index % len(LA_CODES)]


def _anniversary_day(issued_on: date) -> int:
    day = min(issued_on.day, 28) if issued_on.month == 2 else issued_on.day
    return (date(YEAR_START.year, issued_on.month, day) - YEAR_START).days


def _pick(rng: random.Random, values: Sequence[str], cum: Sequence[float]) -> str:
    return values[bisect(cum, rng.random() * cum[-1])]


def _secondary(rng: random.Random, primary: str) -> list[str]:
    return [n for n in rng.sample(NEEDS, rng.randrange(3)) if n != primary]


def _draw(rng: random.Random, per_plan: float) -> int:
    whole = int(per_plan)
    return whole + (rng.random() < per_plan - whole)


def check_contract(mix: Mix, seed: int) -> None:
    """Every generated event type decodes and validates against the contract."""
    feed = Feed(200, mix, seed)
    seen: set[str] = set()
    for _key, value in feed.messages():
        envelope = decode_envelope(value)
        if envelope.type not in seen:
            ehc_plans_v1.parse_data(envelope.type, envelope.data)
            seen.add(envelope.type)


# ==========================================================================================
# Broker: produce, raw consume, committed offsets
# ==========================================================================================


async def produce(bootstrap: str, feed: Feed) -> tuple[float, dict[TopicPartition, int]]:
    """Seconds to generate and produce every message (acks=all), and each partition's end.

    The ends come from the produce responses (base offset + records of the last batch):
    Tansu's ListOffsets answers the last *batch's* base offset + 1, not the high
    watermark, so `end_offsets()` is wrong for batched producers (measured here).
    """
    await ensure_topics(bootstrap, [TOPIC])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        partitions = sorted(await producer.partitions_for(TOPIC))
        ends = await _send_all(producer, feed, partitions)
    finally:
        await producer.stop()
    return time.perf_counter() - started, ends


async def _send_all(
    producer: AIOKafkaProducer, feed: Feed, partitions: list[int]
) -> dict[TopicPartition, int]:
    partitioner = DefaultPartitioner()
    batches = {p: producer.create_batch() for p in partitions}
    sent: list[tuple[int, int, asyncio.Future[RecordMetadata]]] = []

    async def send(partition: int) -> None:
        batch = batches[partition]
        count = batch.record_count()
        sent.append(
            (partition, count, await producer.send_batch(batch, TOPIC, partition=partition))
        )
        batches[partition] = producer.create_batch()

    for key, value in feed.messages():
        partition = partitioner(key, partitions, partitions)
        if batches[partition].append(key=key, value=value, timestamp=None) is None:
            await send(partition)
            batches[partition].append(key=key, value=value, timestamp=None)
    for partition in partitions:
        if batches[partition].record_count():
            await send(partition)
    ends = dict.fromkeys((TopicPartition(TOPIC, p) for p in partitions), 0)
    for partition, count, future in sent:
        tp = TopicPartition(TOPIC, partition)
        ends[tp] = max(ends[tp], (await future).offset + count)
    return ends


class CommitWatch:
    """Committed offsets of the service's consumer group, read from outside the group."""

    def __init__(self, bootstrap: str, group: str, tps: list[TopicPartition]) -> None:
        self.tps = tps
        self.client = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )

    async def __aenter__(self) -> CommitWatch:
        await self.client.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.client.stop()

    async def committed(self) -> dict[TopicPartition, int]:
        return {tp: (await self.client.committed(tp)) or 0 for tp in self.tps}


# ==========================================================================================
# The placements consumer process
# ==========================================================================================


@dataclass
class ConsumerProcess:
    """One placements process with its consumer role, on a fresh database."""

    work: Path
    bootstrap: str
    launcher: str
    profile: Path | None
    managed: list[processes.Managed] = field(default_factory=list)
    code: str = ""

    @property
    def database(self) -> Path:
        return self.work / "placements.db"

    @property
    def group(self) -> str:
        return f"bench-national.{TOPIC}"  # settings.group_for(): "<group>.<topic>"

    @property
    def pid(self) -> int:
        process = self.managed[-1].process
        assert process is not None
        return process.pid

    def env(self) -> dict[str, str]:
        return {
            "DPS_KAFKA_BOOTSTRAP": self.bootstrap,
            "DPS_DATA_DIR": str(self.work),
            "DPS_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "DPS_CONSUMER_GROUP": "bench-national",
            "DPS_CONSUMER_SESSION_TIMEOUT_MS": "3000",
            "DPS_JWT_SECRET": SECRET,
            "DPS_LOG_LEVEL": "WARNING",  # per-event info lines would dominate
            "DPS_HTTP_PORT": str(processes.free_port()),
            **({"BENCH_PROFILE": str(self.profile)} if self.profile else {}),
        }

    def start(self) -> None:
        self.code = code_fingerprint()
        env = self.env()
        if self.launcher == "dps":
            env["DPS_TEMPORAL_ADDRESS"] = self._start_temporal()
            service = processes.service("placements", env, self.work, roles="consumer")
        else:
            argv = [sys.executable, "-m", "bench.national_replay", "--serve-consumer"]
            service = processes.Managed("placements", argv, self.work / "placements.log", env)
        service.start()
        self.managed.append(service)

    def _start_temporal(self) -> str:
        port = processes.free_port()
        server = processes.temporal_server(
            port, processes.free_port(), self.work / "temporal.db", self.work
        )
        server.start()
        self.managed.append(server)
        processes.wait_for_port(server, port, timeout=60)
        return f"127.0.0.1:{port}"

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        for managed in reversed(self.managed):
            managed.stop(timeout=60)

    def tail(self) -> str:
        return self.managed[-1].tail() if self.managed else ""


@dataclass
class Ingest:
    seconds: float  # first commit seen to all committed
    timed_events: int  # events committed within that window
    startup_s: float  # process start to first commit seen
    peak_rss_mib: float


async def ingest(service: ConsumerProcess, ends: dict[TopicPartition, int]) -> Ingest:
    """Start the service, poll its group's committed offsets until the topic's end."""
    tps, total = sorted(ends), sum(ends.values())
    timeout = 120 + total / 200  # a stuck consumer must end the run, not hang it
    async with CommitWatch(service.bootstrap, service.group, tps) as watch:
        spawned = time.perf_counter()
        service.start()
        first: tuple[float, int] | None = None
        while True:
            committed = await watch.committed()
            now, done = time.perf_counter(), sum(committed.values())
            if first is None and done:
                first = (now, done)
            if all(committed[tp] >= ends[tp] for tp in tps):
                break
            if now - spawned > timeout or not service.managed[-1].running:
                raise RuntimeError(f"placements stopped at {done}/{total}:\n{service.tail()}")
            await asyncio.sleep(POLL_S)
    assert first is not None
    return Ingest(now - first[0], total - first[1], first[0] - spawned, service.peak_rss_mib())


def serve_consumer() -> None:
    """--serve-consumer: the placements consumer role, as `dps service` builds it."""
    profile = os.environ.get("BENCH_PROFILE")
    if not profile:
        asyncio.run(_serve())
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    with profiler:
        asyncio.run(_serve())
    Path(profile).write_text(profiler.output_text(unicode=True, show_all=False))
    profiler.write_html(str(Path(profile).with_suffix(".html")))


def _serve() -> Coroutine[Any, Any, None]:
    from bench.service_process import run
    from shared.runtime import ProcessRole

    return run("placements", frozenset({ProcessRole.CONSUMER}))


# ==========================================================================================
# One size, end to end
# ==========================================================================================


@dataclass
class Result:
    plans: int
    counts: Counter[str]
    produce_s: float
    raw_s: float
    ingest: Ingest
    db_mib: float
    inbox_rows: int
    dead_letters: int
    code: str
    load: float = field(default_factory=lambda: os.getloadavg()[0])  # 1-min, at the end

    @property
    def events(self) -> int:
        return sum(self.counts.values())

    @property
    def s_per_1000(self) -> float:
        return self.ingest.seconds / self.ingest.timed_events * 1000

    @property
    def rate(self) -> float:
        return self.ingest.timed_events / self.ingest.seconds

    @property
    def raw_rate(self) -> float:
        return self.events / self.raw_s


async def run_size(plans: int, args: argparse.Namespace) -> Result:
    work = Path(tempfile.mkdtemp(prefix=f"dps-national-{plans}-"))
    port = processes.free_port()
    broker = processes.tansu(port, work)
    broker.start()
    profile = args.profile / f"placements-{plans}.txt" if args.profile else None
    service = ConsumerProcess(work, f"127.0.0.1:{port}", args.launcher, profile)
    try:
        processes.wait_for_port(broker, port, timeout=20)
        feed = Feed(plans, args.mix, args.seed)
        produce_s, ends = await produce(service.bootstrap, feed)
        raw_s = await raw_consume(service.bootstrap, sum(ends.values()))
        try:
            ingested = await ingest(service, ends)
        finally:
            service.stop()
    finally:
        broker.stop()
    inbox, dead = database_counts(service.database)
    result = Result(
        plans, feed.counts, produce_s, raw_s, ingested, size_mib(work), inbox, dead, service.code
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def database_counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        inbox = connection.execute("SELECT count(*) FROM inbox").fetchone()[0]
        dead = connection.execute("SELECT count(*) FROM dead_letter").fetchone()[0]
    return int(inbox), int(dead)


def size_mib(work: Path) -> float:
    """The placements database on disk, after the service closed it (WAL included)."""
    return sum(p.stat().st_size for p in work.glob("placements.db*")) / 2**20


# ==========================================================================================
# Report
# ==========================================================================================


def print_header(args: argparse.Namespace) -> None:
    mix = args.mix
    launcher = (
        "dps service placements --role consumer (+ Temporal dev server)"
        if args.launcher == "dps"
        else "bench consumer process (consumer role, no Temporal)"
    )
    print(
        f"national replay: seed {args.seed}; per plan in the year: {mix.reviews_per_plan:.2f} "
        f"reviews, {mix.amendments_per_plan:.2f} amendments, {mix.ceased_per_plan:.3f} ceased"
    )
    print(f"placements: {launcher}; SQLite in a temp dir; fresh Tansu broker per size")
    print(f"machine: {os.cpu_count()} CPUs, load average {_load()} at start", flush=True)


def print_row(r: Result) -> None:
    mix = "/".join(
        str(r.counts[f"ehc.plan.{t}"]) for t in ("issued", "amended", "reviewed", "ceased")
    )
    print(
        f"{r.plans:>8,} {r.events:>10,} {mix:>31} {r.events / r.produce_s:>9,.0f} "
        f"{r.raw_rate:>9,.0f} {r.ingest.seconds:>8.1f} {r.rate:>8,.0f} {r.s_per_1000:>8.3f} "
        f"{r.rate / r.raw_rate:>7.3f} {r.ingest.startup_s:>7.1f} {r.ingest.peak_rss_mib:>8.0f} "
        f"{r.db_mib:>7.0f} {r.inbox_rows:>10,} {r.dead_letters:>4} {r.load:>5.1f} {r.code:>7}",
        flush=True,
    )


TABLE_HEAD = (
    f"{'plans':>8} {'events':>10} {'issued/amended/reviewed/ceased':>31} {'prod ev/s':>9} "
    f"{'raw ev/s':>9} {'ingest s':>8} {'ev/s':>8} {'s/1k ev':>8} {'/raw':>7} "
    f"{'start s':>7} {'RSS MiB':>8} {'DB MiB':>7} {'inbox':>10} {'dlq':>4} {'load':>5} {'code':>7}"
)


def print_summary(results: list[Result]) -> None:
    small, large = results[0], results[-1]
    print()
    print("columns: prod = generate+produce (acks=all); raw = plain aiokafka consume, no group;")
    print("  ingest s / ev/s / s/1k ev = placements, first commit seen -> all committed;")
    print("  start s = process start -> first commit (migrate, group join, first batch);")
    print("  RSS = peak resident set of the placements process (VmHWM); DB incl. WAL;")
    print("  inbox = events the service recorded as applied; load = 1-min load average;")
    print("  code = hash of services/placements/*.py + shared/*.py when the process started")
    ratio = large.s_per_1000 / small.s_per_1000
    whole = large.ingest.seconds * large.events / large.ingest.timed_events
    national = large.plans >= NATIONAL_PLANS
    verdict = _verdict(whole < TARGET_S) if national else "not judged below 640,000 plans"
    print(
        f"\n{large.plans:,} plans + updates: {whole:.1f} s for all {large.events:,} events "
        f"(target for 640,000 plans < {TARGET_S:.0f} s: {verdict})"
    )
    print(
        f"  ({large.ingest.seconds:.1f} s measured over {large.ingest.timed_events:,} events; "
        "the first batch, applied before the first commit, at the same rate)"
    )
    peak = max(r.ingest.peak_rss_mib for r in results)
    print(
        f"peak memory: {peak:.0f} MiB (target < {TARGET_MIB:.0f} MiB: {_verdict(peak < TARGET_MIB)})"
    )
    if len(results) > 1:
        print(
            f"per-event cost {large.plans:,} / {small.plans:,} plans: {ratio:.2f} "
            f"(target: linear, read as <= {LINEAR_RATIO}: {_verdict(ratio <= LINEAR_RATIO)})"
        )
    print(f"load average at end: {_load()}")
    growth = f", per-event cost {large.plans:,} ÷ {small.plans:,} plans {ratio:.2f}"
    bench_report.record(
        f"national replay, {large.plans:,} plans + a year of updates "
        f"({large.events:,} events), one process",
        f"{whole:.1f} s, peak {peak:.0f} MiB" + (growth if len(results) > 1 else ""),
        f"raw aiokafka consume {large.raw_rate:,.0f} events/s",
        large.rate / large.raw_rate,
        "< 90 s, < 300 MiB, linear 10k→640k (issue 20 baseline 284 s)",
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ==========================================================================================
# Entry point
# ==========================================================================================


async def main(args: argparse.Namespace) -> None:
    check_contract(args.mix, args.seed)
    print_header(args)
    print(TABLE_HEAD, flush=True)
    results = []
    for plans in args.sizes:
        results.append(await run_size(plans, args))
        print_row(results[-1])
    print_summary(results)
    if args.profile:
        print(f"profiles (pyinstrument text and html): {args.profile}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000, 640_000])
    parser.add_argument("--reviews-per-plan", type=float, default=1.0)
    parser.add_argument("--amendments-per-plan", type=float, default=0.25)
    parser.add_argument("--ceased-per-plan", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--launcher", choices=("bench", "dps"), default="bench")
    parser.add_argument("--profile", type=Path, default=None, help="pyinstrument into DIR")
    parser.add_argument("--keep", action="store_true", help="keep each size's temp dir")
    parser.add_argument("--serve-consumer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.mix = Mix(args.reviews_per_plan, args.amendments_per_plan, args.ceased_per_plan)
    if args.profile:
        if args.launcher == "dps":
            parser.error("--profile works with --launcher bench only")
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def cli() -> None:
    args = parse_args()
    if args.serve_consumer:
        serve_consumer()
        return
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
