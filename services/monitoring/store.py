"""Monitoring's loaders, queries and row <-> domain conversion.

A consumer batch applies many events in one transaction. Reads here run without
autoflush and add the transaction's own pending rows themselves, so the inserts of a
whole batch reach the database in one flush at commit instead of one per event (on
SQLite this is what lets monitoring keep up with a steady 100 events/s).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import (
    BigInteger,
    Boolean,
    CompoundSelect,
    Date,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    cast,
    event,
    func,
    literal_column,
    null,
    or_,
    type_coerce,
    union_all,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as select_columns  # sqlmodel's takes at most 4
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import JSON, NullType
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.monitoring import domain
from services.monitoring.models import (
    AlertInboxVersionRow,
    AlertRow,
    Budget,
    Delivery,
    EvidenceRecord,
    Incident,
    InvitationFact,
    KpiReturnRow,
    MonitoringModel,
    NotificationEmail,
    NotificationSubscription,
    PlacementFact,
    ProviderProfile,
    Recommendation,
    RuleVersion,
    SpendLineRow,
    SpendTotalRow,
    Visit,
)
from shared.contracts.common import NeedType
from shared.db import Database
from shared.errors import NotFound
from shared.infra_models import utcnow
from shared.kept_answers import KeptAnswers, Version
from shared.sqlite_driver import is_one_trip
from shared.sqlite_reads import OneTripSelect, one_trip_reads
from shared.unit_of_work import UnitOfWork, insert_at_commit

T = TypeVar("T", bound=MonitoringModel)

# ------------------------------------------------------------------ row <-> domain


def rule_of(row: RuleVersion) -> domain.AlertRule:
    return domain.AlertRule.model_validate(row.model_dump())


def rule_row(rule: domain.AlertRule) -> RuleVersion:
    return RuleVersion.model_validate(
        rule.model_dump(mode="json") | {"changed_at": rule.changed_at}
    )


_ALERT_FIELDS = tuple(domain.Alert.model_fields)


def alert_of(row: AlertRow) -> domain.Alert:
    data = {name: getattr(row, name) for name in _ALERT_FIELDS}
    data["evidence_refs"] = tuple(row.evidence_refs)
    return domain.Alert.model_validate(data)


def alert_columns(alert: domain.Alert) -> dict[str, Any]:
    """Column values of a domain alert; open_key follows the status (see AlertRow)."""
    columns = alert.model_dump(mode="json")
    for name in ("raised_at", "assigned_at", "acknowledged_at", "resolved_at", "escalated_at"):
        columns[name] = getattr(alert, name)
    columns["evidence_refs"] = list(alert.evidence_refs)
    columns["open_key"] = alert.dedupe_key if alert.is_unresolved else None
    return columns


def copy_alert(alert: domain.Alert, row: AlertRow) -> AlertRow:
    """Write a domain alert's state onto its existing row."""
    for name, value in alert_columns(alert).items():
        setattr(row, name, value)
    return row


def kpi_of(row: KpiReturnRow) -> domain.KpiReturn:
    return domain.KpiReturn(
        evidence_id=row.return_id,
        provider_id=row.provider_id,
        placement_id=row.placement_id,
        term=row.term,
        attendance_pct=row.attendance_pct,
        exclusions=row.exclusions,
        incidents=row.incidents,
        outcomes_progress=domain.OutcomeProgress(row.outcomes_progress),
        submitted_on=row.submitted_on,
    )


def visit_of(visit: Visit) -> domain.MonitoringVisit:
    return domain.MonitoringVisit(
        evidence_id=visit.visit_id,
        provider_id=visit.provider_id,
        officer_id=visit.officer_id,
        visited_on=visit.visited_on,
        rating=visit.rating,
    )


def placement_record(fact: PlacementFact, *, clamp_end: bool = True) -> domain.PlacementRecord:
    """A placement fact as the domain's record; `clamp_end` reads an end before the start
    (a placement ended on its first day, as the register may send it) as the start."""
    ends_on = fact.ends_on
    if clamp_end and ends_on is not None and ends_on < fact.starts_on:
        ends_on = fact.starts_on
    return domain.PlacementRecord(
        placement_id=fact.placement_id,
        provider_id=fact.provider_id,
        primary_need=NeedType(fact.primary_need),
        starts_on=fact.starts_on,
        ends_on=ends_on,
        weekly_fee=Decimal(fact.weekly_fee),
        on_contract=fact.on_contract,
    )


# ------------------------------------------------------------------ writes

_DELIVERY = Delivery.__table__  # type: ignore[attr-defined]


def queue_delivery(uow: UnitOfWork, alert_id: str, channel: str, purpose: str) -> None:
    """A pending notice of an alert on `channel`, written when the transaction commits
    (with the transaction's others, in one statement): the sender reads it only after."""
    now = utcnow()
    insert_at_commit(
        uow.session.sync_session,
        _DELIVERY,
        {
            "alert_id": alert_id,
            "channel": channel,
            "purpose": purpose,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "sent_at": None,
            "created_at": now,
        },
    )


# ------------------------------------------------------- reads within a transaction


def pending(uow: UnitOfWork, model: type[T]) -> list[T]:
    """Rows of `model` added in this transaction and not flushed yet."""
    return [row for row in uow.session.new if isinstance(row, model)]


async def find(uow: UnitOfWork, model: type[T], *key: object) -> T | None:
    """Row by primary key, pending rows of this transaction included (and rows a batch
    preloaded, without asking the database again)."""
    names = [column.key for column in sa_inspect(model).primary_key]
    for row in pending(uow, model):
        if tuple(getattr(row, name) for name in names) == key:
            return row
    ident = key if len(key) > 1 else key[0]
    preloaded = _preloaded(uow)
    if preloaded is not None and (model, ident) in preloaded.rows:
        return preloaded.rows[model, ident]  # type: ignore[return-value]
    with uow.session.sync_session.no_autoflush:
        return await uow.session.get(model, ident)


# -- a batch's reads in one query each ------------------------------------------------
#
# A consumer batch (shared.consumer.batch_handler) first loads what all of its events
# will read — rows by key, open alerts by cause and the providers' open safeguarding
# alerts — in one query each; `find`, `unresolved_alerts` and `open_safeguarding_alerts`
# then answer from those rows plus the transaction's pending ones, as the queries would.
# A flush (rare inside a batch: reads run without autoflush) makes pending rows
# persistent and so invisible to `pending`: it drops the preloaded rows, and reads go
# back to the database.

_PRELOADED = "monitoring_preloaded"


@dataclass
class Preloaded:
    rows: dict[tuple[type[Any], object], Any] = field(default_factory=dict)
    alerts: list[AlertRow] = field(default_factory=list)  # held: the identity map is weak
    alert_keys: set[str] = field(default_factory=set)  # open causes loaded
    safeguarding_of: set[str] = field(default_factory=set)  # providers loaded


def _preloaded(uow: UnitOfWork) -> Preloaded | None:
    found: Preloaded | None = uow.session.info.get(_PRELOADED)
    return found


def _forget_preloaded(session: Session, _flush_context: object) -> None:
    session.info.pop(_PRELOADED, None)


def _preloading(uow: UnitOfWork) -> Preloaded:
    preloaded = _preloaded(uow)
    if preloaded is None:
        preloaded = uow.session.info[_PRELOADED] = Preloaded()
        event.listen(uow.session.sync_session, "after_flush", _forget_preloaded, once=True)
    return preloaded


# Statements built once (building one costs about as much as running it on SQLite); the
# keys go in as one expanding parameter.
_KEYS = "keys"
_PROVIDERS = "providers"
_BY_KEY: dict[type[Any], SelectOfScalar[Any]] = {}
_OPEN_OF_CAUSES = col(AlertRow.open_key).in_(bindparam(_KEYS, expanding=True))
_OPEN_SAFEGUARDING = and_(
    col(AlertRow.provider_id).in_(bindparam(_PROVIDERS, expanding=True)),
    col(AlertRow.open_key).is_not(None),
    col(AlertRow.rule_id).in_(domain.SAFEGUARDING_RULE_IDS),
)
_OPEN_ALERTS = {
    (True, False): select(AlertRow).where(_OPEN_OF_CAUSES),
    (False, True): select(AlertRow).where(_OPEN_SAFEGUARDING),
    (True, True): select(AlertRow).where(or_(_OPEN_OF_CAUSES, _OPEN_SAFEGUARDING)),
}


def _by_key(model: type[T]) -> SelectOfScalar[T]:
    query = _BY_KEY.get(model)
    if query is None:
        key_column = sa_inspect(model).primary_key[0]
        query = _BY_KEY[model] = select(model).where(
            col(key_column).in_(bindparam(_KEYS, expanding=True))
        )
    return query


async def preload(uow: UnitOfWork, model: type[T], keys: Iterable[object]) -> None:
    """Load the rows of `model` (single-column key) with these keys in one query, so
    `find` answers for each key, found or not, without a query of its own."""
    preloaded = _preloading(uow)
    wanted = {key for key in keys if (model, key) not in preloaded.rows}
    if not wanted:
        return
    key_name = sa_inspect(model).primary_key[0].key
    rows = await select_rows(uow, _by_key(model), {_KEYS: list(wanted)})
    for key in wanted:
        preloaded.rows[model, key] = None
    for row in rows:
        preloaded.rows[model, getattr(row, key_name)] = row


async def preload_alerts(
    uow: UnitOfWork, causes: Iterable[str], safeguarding_of: Iterable[str]
) -> None:
    """Load the open alerts of these causes (dedupe keys) and the providers' open
    safeguarding alerts, in one query."""
    preloaded = _preloading(uow)
    keys = set(causes) - preloaded.alert_keys
    providers = set(safeguarding_of) - preloaded.safeguarding_of
    if not keys and not providers:
        return
    params = {_KEYS: list(keys), _PROVIDERS: list(providers)}
    query = _OPEN_ALERTS[bool(keys), bool(providers)]
    rows = await select_rows(uow, query, {k: v for k, v in params.items() if v})
    held = {id(row) for row in preloaded.alerts}
    preloaded.alerts += [row for row in rows if id(row) not in held]
    preloaded.alert_keys |= keys
    preloaded.safeguarding_of |= providers


async def select_rows(
    uow: UnitOfWork, query: SelectOfScalar[T], params: dict[str, Any] | None = None
) -> list[T]:
    with uow.session.sync_session.no_autoflush:
        return list((await uow.session.exec(query, params=params)).all())


# Parsed rule versions by their stored columns: a version's row is never changed (a
# change is a new version), and the columns are the key, so a row that did change would
# be parsed afresh. Rules are still read once per transaction; only parsing is saved.
_parsed_rules: dict[str, domain.AlertRule] = {}
_RULES = select_columns(*RuleVersion.__table__.columns)  # type: ignore[attr-defined]


async def rules_in_force(uow: UnitOfWork) -> list[domain.AlertRule]:
    """Current rule versions, read once per transaction (a consumer batch is one)."""
    cached: list[domain.AlertRule] | None = uow.session.info.get("monitoring_rules")
    if cached is None:
        with uow.session.sync_session.no_autoflush:
            rows = (await uow.session.execute(_RULES)).all()
        versions = []
        for row in rows:
            stored = repr(tuple(row))
            rule = _parsed_rules.get(stored)
            if rule is None:
                rule = rule_of(RuleVersion.model_validate(row._asdict()))
                if len(_parsed_rules) > 10_000:
                    _parsed_rules.clear()
                _parsed_rules[stored] = rule
            versions.append(rule)
        cached = list(domain.current_rules(versions).values())
        uow.session.info["monitoring_rules"] = cached
    return cached


async def rule_versions(
    session: AsyncSession, rule_id: str | None = None
) -> list[domain.AlertRule]:
    query = select(RuleVersion)
    if rule_id is not None:
        query = query.where(RuleVersion.rule_id == rule_id)
    return [rule_of(row) for row in (await session.exec(query)).all()]


async def evidence_of(uow: UnitOfWork, kind: str, provider_id: str) -> list[dict[str, Any]]:
    query = select(EvidenceRecord).where(
        EvidenceRecord.kind == kind, EvidenceRecord.provider_id == provider_id
    )
    rows = await select_rows(uow, query)
    rows += [
        r for r in pending(uow, EvidenceRecord) if r.kind == kind and r.provider_id == provider_id
    ]
    return [row.body for row in rows]


async def known_evidence(uow: UnitOfWork, evidence_ids: list[str]) -> set[str]:
    query = select(EvidenceRecord.evidence_id).where(
        col(EvidenceRecord.evidence_id).in_(evidence_ids)
    )
    return set((await uow.session.exec(query)).all())


async def unresolved_alerts(uow: UnitOfWork, keys: Iterable[str]) -> list[AlertRow]:
    wanted = set(keys)
    if not wanted:
        return []
    preloaded = _preloaded(uow)
    if preloaded is not None and wanted <= preloaded.alert_keys:
        rows = [r for r in preloaded.alerts if r.open_key in wanted]
    else:
        query = select(AlertRow).where(col(AlertRow.open_key).in_(wanted))
        rows = await select_rows(uow, query)
    return rows + [r for r in pending(uow, AlertRow) if r.open_key in wanted]


async def open_safeguarding_alerts(uow: UnitOfWork, provider_id: str) -> list[AlertRow]:
    safeguarding = domain.SAFEGUARDING_RULE_IDS
    preloaded = _preloaded(uow)
    if preloaded is not None and provider_id in preloaded.safeguarding_of:
        rows = [
            r
            for r in preloaded.alerts
            if r.provider_id == provider_id and r.rule_id in safeguarding and r.open_key
        ]
    else:
        rows = await select_rows(
            uow,
            select(AlertRow).where(
                AlertRow.provider_id == provider_id,
                col(AlertRow.open_key).is_not(None),
                col(AlertRow.rule_id).in_(safeguarding),
            ),
        )
    return rows + [
        r
        for r in pending(uow, AlertRow)
        if r.provider_id == provider_id and r.rule_id in safeguarding and r.open_key
    ]


async def recommendations_of(
    uow: UnitOfWork, provider_id: str
) -> list[domain.SuspensionRecommendation]:
    """The provider's recommendations, open and closed, this transaction's included."""
    rows = await select_rows(
        uow, select(Recommendation).where(Recommendation.provider_id == provider_id)
    )
    rows += [r for r in pending(uow, Recommendation) if r.provider_id == provider_id]
    return [domain.SuspensionRecommendation.model_validate(r.model_dump()) for r in rows]


async def kpi_history(uow: UnitOfWork, placement_id: str) -> list[domain.KpiReturn]:
    rows = await uow.session.exec(
        select(KpiReturnRow).where(KpiReturnRow.placement_id == placement_id)
    )
    return [kpi_of(row) for row in rows.all()]


async def provider(uow: UnitOfWork, provider_id: str) -> ProviderProfile:
    profile = await uow.session.get(ProviderProfile, provider_id)
    if profile is None:
        raise NotFound("provider", provider_id)
    return profile


async def placement(uow: UnitOfWork, placement_id: str) -> PlacementFact:
    fact = await uow.session.get(PlacementFact, placement_id)
    if fact is None:
        raise NotFound("placement", placement_id)
    return fact


async def alert_row(uow: UnitOfWork, alert_id: str) -> AlertRow:
    row = await uow.session.get(AlertRow, alert_id)
    if row is None:
        raise NotFound("alert", alert_id)
    return row


# ------------------------------------------------------------ KPI returns owed


async def placements_without_return(
    session: AsyncSession, term: str
) -> list[domain.PlacementRecord]:
    """Placements active in `term` that have sent no KPI return for it."""
    first, last = domain.term_window(term)
    facts = (
        await session.exec(
            select(PlacementFact).where(
                col(PlacementFact.starts_on) <= last,
                col(PlacementFact.ends_on).is_(None) | (col(PlacementFact.ends_on) >= first),
            )
        )
    ).all()
    returned = set(
        (
            await session.exec(select(KpiReturnRow.placement_id).where(KpiReturnRow.term == term))
        ).all()
    )
    return [placement_record(f) for f in facts if f.placement_id not in returned]


async def provider_kpi_position(
    session: AsyncSession, provider_id: str, terms: list[str]
) -> tuple[list[domain.PlacementRecord], list[domain.KpiReturn]]:
    """The provider's placements and its KPI returns of `terms`."""
    facts = (
        await session.exec(select(PlacementFact).where(PlacementFact.provider_id == provider_id))
    ).all()
    rows = (
        await session.exec(
            select(KpiReturnRow).where(
                KpiReturnRow.provider_id == provider_id, col(KpiReturnRow.term).in_(terms)
            )
        )
    ).all()
    return [placement_record(f) for f in facts], [kpi_of(r) for r in rows]


# -------------------------------------------------------------------- escalation


async def critical_alerts_without_workflow(session: AsyncSession, limit: int) -> list[AlertRow]:
    return list(
        (
            await session.exec(
                select(AlertRow)
                .where(
                    AlertRow.severity == domain.Severity.CRITICAL.value,
                    AlertRow.status == domain.AlertStatus.OPEN.value,
                    col(AlertRow.workflow_started_at).is_(None),
                )
                .limit(limit)
            )
        ).all()
    )


# ------------------------------------------------------- scorecard and dashboard
#
# The dashboard reads spend from the spend_total read model (a few dozen rows however
# many placement-years), counts and overdue placements as the database selects them,
# plain columns built without validating again what was validated when consumed.


async def scorecard_inputs(uow: UnitOfWork, provider_id: str) -> dict[str, Any]:
    """What `domain.build_scorecard` needs about one provider."""
    session = uow.session
    inspections = await session.exec(
        select(EvidenceRecord).where(
            EvidenceRecord.provider_id == provider_id,
            EvidenceRecord.kind == domain.EvidenceKind.OFSTED_INSPECTION.value,
        )
    )
    visits = await session.exec(select(Visit).where(Visit.provider_id == provider_id))
    kpis = await session.exec(select(KpiReturnRow).where(KpiReturnRow.provider_id == provider_id))
    alerts = await session.exec(
        select(AlertRow).where(
            AlertRow.provider_id == provider_id, col(AlertRow.open_key).is_not(None)
        )
    )
    placements = await session.exec(
        select(PlacementFact).where(PlacementFact.provider_id == provider_id)
    )
    return {
        "inspections": [domain.OfstedInspection.model_validate(r.body) for r in inspections.all()],
        "visits": [visit_of(v) for v in visits.all()],
        "kpi_returns": [kpi_of(k) for k in kpis.all()],
        "alerts": [alert_of(a) for a in alerts.all()],
        "placements": [placement_record(p, clamp_end=False) for p in placements.all()],
    }


@dataclass(frozen=True)
class DashboardFigures:
    """What the dashboard reads from the read models and the budgets."""

    totals: list[domain.YearTotal]  # spend per year, on and off contract
    needs: list[domain.NeedTotal]  # the selected year's spend and placements per need
    alert_counts: dict[domain.Severity, int]  # unresolved alerts per severity
    overdue: list[str]  # placements whose review is overdue on the day
    budgets: dict[int, Decimal]  # per financial year


def _kind(name: str) -> ColumnElement[str]:
    """A branch's name as a SQL literal (a bound parameter has no type PostgreSQL can
    settle on across the branches of a UNION)."""
    return literal_column(f"'{name}'", String)


def _dashboard_statement() -> CompoundSelect:
    """One statement, one trip: each branch's rows are told apart by their first column
    (a statement cost about 0.2 ms of CPU on SQLite beside the little SQL it runs)."""
    t, f, a = SpendTotalRow, PlacementFact, AlertRow
    year, need, on_contract = col(t.financial_year), col(t.primary_need), col(t.on_contract)
    sums = (func.sum(col(t.placements)), func.sum(col(t.pence)))
    no_year, no_flag = cast(null(), Integer), cast(null(), Boolean)
    no_label, no_count = cast(null(), String), cast(null(), BigInteger)
    by_year = (
        select_columns(_kind("year"), year, on_contract, no_label, *sums)
        .group_by(year, on_contract)
        # Rows left without lines (all moved across contract) make no year appear.
        .having(func.sum(col(t.lines)) > 0)
    )
    by_need = (
        select_columns(_kind("need"), year, no_flag, need, *sums)
        .where(year == bindparam("year", type_=Integer))
        .group_by(year, need)
        .having(sums[1] > 0)
    )
    alerts = (
        select_columns(_kind("alerts"), no_year, no_flag, col(a.severity), func.count(), no_count)
        # open_key follows status: set while the alert is unresolved.
        .where(col(a.open_key).is_not(None))
        .group_by(col(a.severity))
    )
    day = bindparam("day", type_=Date)
    overdue = select_columns(
        _kind("overdue"), no_year, no_flag, col(f.placement_id), no_count, no_count
    ).where(
        col(f.review_due_on) < day,
        col(f.review_completed_on).is_(None),
        # A placement that has ended owes no further review.
        or_(col(f.ends_on).is_(None), col(f.ends_on) >= day),
    )
    # As text: SQLite keeps NUMERIC as a float, which only its own column type would turn
    # back into the amount; the text of a float holding two decimal places is exact.
    budgets = select_columns(
        _kind("budget"),
        col(Budget.financial_year),
        no_flag,
        cast(col(Budget.amount), String),
        no_count,
        no_count,
    )
    return union_all(by_year, by_need, alerts, overdue, budgets)


# Built once: on SQLite, building it each time took about as long as running it.
_DASHBOARD = _dashboard_statement()


async def dashboard_figures(session: AsyncSession, year: int, day: date) -> DashboardFigures:
    """From the spend_total, alert and placement read models and the budgets: spend per
    year on and off contract, `year`'s spend and placements per need, unresolved alerts
    per severity, the placements whose review is overdue on `day` (ReviewDue.overdue_on)
    and not ended, and each year's budget."""
    figures = DashboardFigures([], [], {}, [], {})
    rows = await session.execute(_DASHBOARD, {"year": year, "day": day})
    for kind, row_year, on, label, count, pence in rows:
        if kind == "year":
            figures.totals.append(
                domain.YearTotal.model_construct(
                    financial_year=row_year, on_contract=bool(on), amount=_pounds(pence)
                )
            )
        elif kind == "need":
            figures.needs.append(
                domain.NeedTotal.model_construct(
                    financial_year=row_year,
                    primary_need=NeedType(label),
                    placements=int(count),
                    amount=_pounds(pence),
                )
            )
        elif kind == "alerts":
            figures.alert_counts[domain.Severity(label)] = int(count)
        elif kind == "overdue":
            figures.overdue.append(label)
        else:
            figures.budgets[row_year] = Decimal(label).quantize(_CENT)
    return figures


_CENT = Decimal("0.01")


def _pounds(pence: int | Decimal) -> Decimal:
    return Decimal(pence).scaleb(-2)  # 12345 -> 123.45, 0 -> 0.00


# -- the spend_total read model -------------------------------------------------------
#
# A transaction adds up in memory what its spend lines change in spend_total and writes
# it at commit in one statement, the rows in key order: transactions that share rows
# lock them in the same order on PostgreSQL, and a consumer batch pays one round trip.

_SPEND_CHANGES = "monitoring_spend_changes"
_SpendKey = tuple[int, str, bool]


def count_spend(uow: UnitOfWork, line: SpendLineRow, sign: int) -> None:
    """Add (`sign` 1) or take away (-1) `line`'s share of spend_total when this
    transaction commits: take it away before changing a line and add it after."""
    changes: dict[_SpendKey, list[int]] | None = uow.session.info.get(_SPEND_CHANGES)
    if changes is None:
        changes = uow.session.info[_SPEND_CHANGES] = {}
        event.listen(uow.session.sync_session, "before_commit", _write_spend_totals, once=True)
    pence = int(line.amount * 100)  # spend is in pence (Money has two decimal places)
    paid = line.line == "placement" and pence != 0
    key = (line.financial_year, line.primary_need, line.on_contract)
    change = changes.setdefault(key, [0, 0, 0])
    change[0] += sign
    change[1] += sign * paid
    change[2] += sign * pence


def _write_spend_totals(session: Session) -> None:
    changes: dict[_SpendKey, list[int]] = session.info.pop(_SPEND_CHANGES, {})
    rows = [
        {
            "financial_year": year,
            "primary_need": need,
            "on_contract": on_contract,
            "lines": lines,
            "placements": placements,
            "pence": pence,
        }
        for (year, need, on_contract), (lines, placements, pence) in sorted(changes.items())
        if lines or placements or pence
    ]
    if not rows:
        return
    table = SpendTotalRow.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    added = {
        name: table.c[name] + statement.excluded[name] for name in ("lines", "placements", "pence")
    }
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["financial_year", "primary_need", "on_contract"], set_=added
        ),
        rows,
    )


# ---------------------------------------------------------------- notifications


async def subscribers(
    uow: UnitOfWork, provider_id: str, kind: str
) -> list[NotificationSubscription]:
    rows = await select_rows(
        uow,
        select(NotificationSubscription).where(NotificationSubscription.provider_id == provider_id),
    )
    return [row for row in rows if kind in row.kinds and row.email]


async def queued_keys(uow: UnitOfWork, keys: list[str]) -> set[str]:
    found = {row.dedupe_key for row in pending(uow, NotificationEmail)}
    rows = await select_rows(
        uow, select(NotificationEmail).where(col(NotificationEmail.dedupe_key).in_(keys))
    )
    return found | {row.dedupe_key for row in rows}


async def bidders(uow: UnitOfWork, competition_id: str) -> list[str]:
    """Providers that bid in the call-off. Filtered here, not in SQL: a fact marked in
    this same (unflushed) batch is the session's object and already says bid."""
    stored = await select_rows(
        uow, select(InvitationFact).where(InvitationFact.competition_id == competition_id)
    )
    fresh = [f for f in pending(uow, InvitationFact) if f.competition_id == competition_id]
    return sorted({fact.provider_id for fact in [*stored, *fresh] if fact.bid})


# ------------------------------------------------------------------ route reads


_ALERTS = AlertRow.__table__  # type: ignore[attr-defined]
# Each alert's columns as the database keeps them (JSON as its text, nothing converted):
# they key the alerts already serialised, so an unchanged alert is never converted or
# serialised again, and a changed one, having other values, never answers from before.
_STORED = tuple(
    cast(c, Text) if isinstance(c.type, JSON) else type_coerce(c, NullType())
    for c in _ALERTS.columns
)
_ID, _PLACEMENT = (
    list(_ALERTS.columns).index(_ALERTS.c[name]) for name in ("alert_id", "placement_id")
)
_NAMES = tuple(c.key for c in _ALERTS.columns)
# One alert as JSON: the same bytes as its item in list[AlertRow] (fields in the same
# order, values serialised alike), tested against the rows themselves.
_ALERT_JSON = TypeAdapter(dict[str, Any])
_serialised: dict[tuple[Any, ...], bytes] = {}
_SERIALISED_MAX = 4096  # about 8 MiB; emptied when full


@dataclass(frozen=True, slots=True)
class InboxPage:
    """One inbox page as sent, and the alerts it lists (id, placement) for its audit."""

    alerts: tuple[tuple[str, str | None], ...]
    body: bytes


# Inbox pages already answered, by the alerts' version (raised by the database on every
# change to an alert): a page is read again only after an alert changed. 200 alerts are
# about 190 KB.
_pages: KeptAnswers[InboxPage] = KeptAnswers(lambda page: len(page.body))
_INBOX_VERSION = OneTripSelect(
    select_columns(col(AlertInboxVersionRow.epoch), col(AlertInboxVersionRow.version))
)


async def inbox(
    db: Database,
    *,
    status: str | None,
    severity: str | None,
    provider_id: str | None,
    limit: int,
) -> InboxPage:
    """The officers' inbox, newest first: as answered before while no alert has changed
    since (the alerts' version is read first, then the page if it is not kept)."""
    key = (status, severity, provider_id, limit)
    version = await _inbox_version(db)
    page = _pages.get(version, key)
    if page is None:
        found = await alerts(
            db, status=status, severity=severity, provider_id=provider_id, limit=limit
        )
        # The same body as list[AlertRow], from each alert's JSON as the store keeps it.
        page = InboxPage(
            tuple((alert.alert_id, alert.placement_id) for alert in found),
            b"[" + b",".join(alert.json for alert in found) + b"]",
        )
        _pages.put(version, key, page)
    return page


async def _inbox_version(db: Database) -> Version | None:
    if is_one_trip(db.engine):
        rows = await one_trip_reads(
            db.engine, lambda connection, dialect: _INBOX_VERSION.tuples(connection, dialect, {})
        )
    else:
        async with db.session() as session:
            rows = [tuple(row) for row in await session.execute(_INBOX_VERSION.statement)]
    return (rows[0][0], rows[0][1]) if rows else None


@dataclass(frozen=True, slots=True)
class InboxAlert:
    alert_id: str
    placement_id: str | None
    json: bytes


async def alerts(
    db: Database,
    *,
    status: str | None,
    severity: str | None,
    provider_id: str | None,
    limit: int,
) -> list[InboxAlert]:
    """The officers' inbox, newest first, each alert as JSON: one read of the stored
    columns (on SQLite in one trip to its thread, no row objects made), and a second, of
    those not serialised before, through their types."""
    filters = {"status": status, "severity": severity, "provider_id": provider_id}
    given = {name: value for name, value in filters.items() if value is not None}
    read = _inbox_read(frozenset(given))
    values = {**given, "limit": limit}
    if is_one_trip(db.engine):
        stored = await one_trip_reads(
            db.engine, lambda connection, dialect: read.tuples(connection, dialect, values)
        )
    else:
        async with db.session() as session:
            stored = [tuple(row) for row in await session.execute(read.statement, values)]
    known = [_serialised.get(row) for row in stored]  # taken before the next await
    missing = [row[_ID] for row, json in zip(stored, known, strict=True) if json is None]
    fresh: dict[str, bytes] = {}
    if missing:
        async with db.session() as session:
            fresh = await _serialise(session, missing)
    return [
        InboxAlert(row[_ID], row[_PLACEMENT], json or fresh[row[_ID]])
        for row, json in zip(stored, known, strict=True)
        if json or row[_ID] in fresh
    ]


@cache
def _inbox_read(filtered_by: frozenset[str]) -> OneTripSelect:
    """The inbox's read of stored columns, filtered by the named columns (built once per
    combination of filters, each value a parameter)."""
    query = select_columns(*_STORED)
    for name in sorted(filtered_by):
        query = query.where(_ALERTS.c[name] == bindparam(name))
    return OneTripSelect(query.order_by(_ALERTS.c.raised_at.desc()).limit(bindparam("limit")))


async def _serialise(session: AsyncSession, alert_ids: list[str]) -> dict[str, bytes]:
    """These alerts as JSON, remembered by their stored columns read in the same
    statement (so what is remembered is what those columns say)."""
    width = len(_STORED)
    rows = await session.execute(
        select_columns(*_STORED, *_ALERTS.columns).where(_ALERTS.c.alert_id.in_(alert_ids))
    )
    found = {}
    for row in rows:
        stored, values = tuple(row[:width]), row[width:]
        json = found[stored[_ID]] = _ALERT_JSON.dump_json(dict(zip(_NAMES, values, strict=True)))
        if len(_serialised) >= _SERIALISED_MAX:
            _serialised.clear()
        _serialised[stored] = json
    return found


async def budgets(session: AsyncSession) -> list[Budget]:
    return list((await session.exec(select(Budget).order_by(col(Budget.financial_year)))).all())


async def known_providers(session: AsyncSession, limit: int = 500) -> list[ProviderProfile]:
    rows = await session.exec(
        select(ProviderProfile).order_by(col(ProviderProfile.first_seen_at).desc()).limit(limit)
    )
    return list(rows.all())


async def provider_file(session: AsyncSession, provider_id: str, limit: int) -> dict[str, Any]:
    """The provider's latest `limit` visits, KPI returns and incidents (each newest first)."""
    if await session.get(ProviderProfile, provider_id) is None:
        raise NotFound("provider", provider_id)
    visits = await session.exec(
        select(Visit)
        .where(Visit.provider_id == provider_id)
        .order_by(col(Visit.visited_on).desc())
        .limit(limit)
    )
    returns = await session.exec(
        select(KpiReturnRow)
        .where(KpiReturnRow.provider_id == provider_id)
        .order_by(col(KpiReturnRow.submitted_on).desc())
        .limit(limit)
    )
    incidents = await session.exec(
        select(Incident)
        .where(Incident.provider_id == provider_id)
        .order_by(col(Incident.occurred_on).desc())
        .limit(limit)
    )
    return {
        "provider_id": provider_id,
        "visits": [v.model_dump(mode="json") for v in visits.all()],
        "kpi_returns": [k.model_dump(mode="json") for k in returns.all()],
        "incidents": [i.model_dump(mode="json") for i in incidents.all()],
    }


async def recommendations(session: AsyncSession, provider_id: str) -> list[Recommendation]:
    """The provider's recommendations (the rules' and the officers'), newest first."""
    if await session.get(ProviderProfile, provider_id) is None:
        raise NotFound("provider", provider_id)
    rows = await session.exec(
        select(Recommendation)
        .where(Recommendation.provider_id == provider_id)
        .order_by(col(Recommendation.recommended_at).desc())
    )
    return list(rows.all())
