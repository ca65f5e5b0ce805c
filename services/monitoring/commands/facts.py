"""What monitoring keeps up to date from other services' events (providers, placements,
spend, competitions, recommendations), beside the evidence it assesses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from services.monitoring import domain, store
from services.monitoring.commands.assessment import assess
from services.monitoring.models import (
    CompetitionFact,
    PlacementFact,
    ProviderProfile,
    Recommendation,
    SpendLineRow,
)
from services.monitoring.store import find, preload
from shared.contracts import placements_v1, procurement_v1, providers_v1
from shared.contracts.inspections import read_inspection
from shared.infra_models import utcnow
from shared.unit_of_work import UnitOfWork

# ------------------------------------------------------------------ providers


async def upsert_profile(uow: UnitOfWork, snapshot: providers_v1.ProviderSnapshot) -> None:
    profile = await find(uow, ProviderProfile, snapshot.provider_id)
    if profile is None:
        profile = ProviderProfile(
            provider_id=snapshot.provider_id,
            urn=snapshot.urn,
            name=snapshot.name,
            status=snapshot.status.value,
        )
    profile.name = snapshot.name
    profile.status = snapshot.status.value
    if snapshot.latest_inspection is not None:
        judgement = read_inspection(snapshot.latest_inspection).equivalent
        profile.ofsted_judgement = judgement.value if judgement else None
    profile.updated_at = utcnow()
    uow.session.add(profile)


async def _known_profile(uow: UnitOfWork, provider_id: str, urn: int, name: str) -> ProviderProfile:
    # Events may arrive before registration was seen (e.g. after a replay): learn it here.
    profile = await find(uow, ProviderProfile, provider_id)
    if profile is None:
        profile = ProviderProfile(provider_id=provider_id, urn=urn, name=name, status="registered")
    profile.name = name
    profile.updated_at = utcnow()
    return profile


async def record_inspection(
    uow: UnitOfWork, event_id: str, event: providers_v1.ProviderInspectionRecorded
) -> None:
    profile = await _known_profile(uow, event.provider_id, event.urn, event.name)
    if event.is_latest:
        judgement = read_inspection(event.new).equivalent
        profile.ofsted_judgement = judgement.value if judgement else profile.ofsted_judgement
        profile.ofsted_inspected_on = datetime.combine(event.new.inspected_on, time(0), tzinfo=UTC)
    uow.session.add(profile)
    evidence = domain.inspection_evidence(event_id, event.provider_id, event.new)
    if evidence is not None:
        # A back-filled older inspection is history, not news: keep it, raise nothing.
        await assess(uow, evidence, alerting=event.is_latest)


async def prepare_inspections(
    uow: UnitOfWork, events: Sequence[tuple[str, providers_v1.ProviderInspectionRecorded]]
) -> None:
    """Load, in one query each, what `record_inspection` will read for these events
    (event id, payload): the providers' profiles, the open alerts of every cause the
    rules would raise, and the providers' open safeguarding alerts."""
    await preload(uow, ProviderProfile, {event.provider_id for _, event in events})
    rules = await store.rules_in_force(uow)
    causes: set[str] = set()
    providers: set[str] = set()
    for event_id, event in events:
        evidence = domain.inspection_evidence(event_id, event.provider_id, event.new)
        if evidence is None or not event.is_latest:
            continue
        causes.update(match.dedupe_key for match in domain.evaluate_rules(rules, evidence))
        providers.add(event.provider_id)
    await store.preload_alerts(uow, causes, providers)


async def change_status(
    uow: UnitOfWork,
    evidence: domain.ProviderStatusChanged,
    event: providers_v1.ProviderStatusChanged,
) -> None:
    profile = await _known_profile(uow, event.provider_id, event.urn, event.name)
    profile.status = event.status.value
    uow.session.add(profile)
    await assess(uow, evidence)
    if event.recommendation_id:
        await close_recommendation(uow, event.recommendation_id, event.status.value)


async def close_recommendation(uow: UnitOfWork, recommendation_id: str, decision: str) -> None:
    row = await find(uow, Recommendation, recommendation_id)
    if row is not None and row.status == "open":
        row.status, row.closed_at, row.decision = "closed", utcnow(), decision
        uow.session.add(row)


# ----------------------------------------------------------------- placements


async def record_contract(uow: UnitOfWork, event: placements_v1.PlacementContractCreated) -> None:
    fact = await find(uow, PlacementFact, event.placement_id)
    if fact is None:
        fact = PlacementFact(
            placement_id=event.placement_id,
            provider_id=event.provider_id,
            primary_need=event.primary_need.value,
            starts_on=event.start_date,
            weekly_fee=event.fee.weekly_total,
        )
    fact.provider_id = event.provider_id
    fact.starts_on = event.start_date
    fact.ends_on = event.term_end
    fact.weekly_fee = event.fee.weekly_total
    fact.on_contract = event.on_contract
    fact.review_due_on = event.first_review_due
    fact.updated_at = utcnow()
    uow.session.add(fact)


async def update_placement(uow: UnitOfWork, placement_id: str, **changes: Any) -> None:
    fact = await find(uow, PlacementFact, placement_id)
    if fact is None:
        return  # created before monitoring listened; nothing to keep up to date
    for name, value in changes.items():
        setattr(fact, name, value)
    fact.updated_at = utcnow()
    uow.session.add(fact)


async def record_spend(uow: UnitOfWork, event: placements_v1.PlacementSpendCommitted) -> None:
    row = await find(uow, SpendLineRow, event.placement_id, event.financial_year)
    if row is None:
        row = SpendLineRow(
            placement_id=event.placement_id,
            financial_year=event.financial_year,
            provider_id=event.provider_id,
            primary_need=event.primary_need.value,
            amount=event.amount,
            on_contract=event.on_contract,
            line=event.line,
        )
    else:
        store.count_spend(uow, row, -1)
    row.amount, row.on_contract, row.updated_at = event.amount, event.on_contract, utcnow()
    store.count_spend(uow, row, 1)
    uow.session.add(row)


# ---------------------------------------------------------------- competitions


async def record_competition_opened(
    uow: UnitOfWork, event: procurement_v1.CompetitionOpened
) -> None:
    fact = await find(uow, CompetitionFact, event.competition_id)
    if fact is None:
        fact = CompetitionFact(
            competition_id=event.competition_id,
            category_code=event.category_code,
            kind=event.kind,
            opened_at=event.opened_at,
        )
    fact.need_ref = event.need_ref
    uow.session.add(fact)


async def record_competition_closed(
    uow: UnitOfWork, event: procurement_v1.CompetitionClosed
) -> None:
    fact = await find(uow, CompetitionFact, event.competition_id)
    if fact is not None:
        fact.bids_received = event.bids_received
        uow.session.add(fact)
