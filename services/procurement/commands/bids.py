"""Call-offs opened by an officer, and the bids on them: a sealed bid (a resubmission
supersedes the live one) and its withdrawal before the deadline."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.procurement import domain as d
from services.procurement import events
from services.procurement.commands.call_offs import open_call_off
from services.procurement.models import (
    BidRow,
    bid_row,
    bid_to_domain,
    competition_to_domain,
    scheme_to_domain,
)
from services.procurement.store import (
    category_membership,
    invited_competition,
    latest_bid_version,
    load_invitations,
    load_providers,
    load_scheme_row,
    locked_competition,
    provider_live_bid_rows,
)
from shared.errors import DomainError
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date


async def open_competition(
    uow: UnitOfWork,
    actor: Actor,
    scheme_id: str,
    spec: Callable[[str, d.AwardCriteria], d.CompetitionSpec],
    *,
    deadline_at: datetime,
    urgent_reason: str | None,
    now: datetime,
) -> d.Competition:
    """Open a call-off of the scheme; ``spec`` builds it from its new id and the award
    criteria the scheme published. With nobody eligible the competition is kept (see
    :func:`open_call_off`); :func:`no_eligible_refusal` says why, once committed."""
    scheme = scheme_to_domain(await load_scheme_row(uow, scheme_id))
    return await open_call_off(
        uow,
        scheme,
        spec(str(uuid.uuid4()), scheme.award_criteria),
        deadline_at=deadline_at,
        urgent_reason=urgent_reason,
        actor=actor,
        now=now,
    )


def no_eligible_refusal(c: d.Competition) -> DomainError | None:
    """The 422 of a call-off opened with nobody eligible (None if members were invited)."""
    if c.status is not d.CompetitionStatus.NO_ELIGIBLE_MEMBERS:
        return None
    reasons = [f"{s.provider_id}: {'; '.join(s.reasons)}" for s in c.screenings]
    return DomainError(
        "category_code",
        "no_eligible_members: "
        + ("; ".join(reasons) or "the category has no members")
        + f" (recorded as competition {c.competition_id})",
    )


@dataclass(frozen=True)
class BidReceipt:
    bid: d.Bid
    deadline_at: datetime


async def submit_bid(
    uow: UnitOfWork,
    actor: Actor,
    competition_id: str,
    offer: d.BidOffer,
    now: datetime,
) -> BidReceipt:
    """A sealed bid from an invited, active member before the deadline; a resubmission
    replaces the provider's live bid (the earlier one is kept, superseded)."""
    provider_id = offer.provider_id
    row = await locked_competition(uow, competition_id)
    c = competition_to_domain(row, await load_invitations(uow, competition_id))
    scheme = scheme_to_domain(await load_scheme_row(uow, row.scheme_id))
    membership = await category_membership(uow, row, provider_id)
    live = await provider_live_bid_rows(uow, row, provider_id)
    earlier = await latest_bid_version(uow, row, provider_id)
    d.require_scheme_takes_bids(scheme, london_date(now))
    receipt = d.submit_bid(
        c,
        offer,
        bid_id=str(uuid.uuid4()),
        membership=membership,
        live_bids=[bid_to_domain(b) for b in live],
        now=now,
        earlier_versions=earlier,
    )
    await _require_bidder_compliant(uow, scheme, provider_id, now)
    for old in live:
        old.superseded = True
        uow.session.add(old)
    uow.session.add(bid_row(receipt.bid))
    b = receipt.bid
    uow.emit(events.bid_received(c, b, now))
    uow.audit(
        actor, "bid.received", "competition", competition_id, bid_id=b.bid_id, version=b.version
    )
    return BidReceipt(b, row.deadline_at)


async def _require_bidder_compliant(
    uow: UnitOfWork, scheme: d.Scheme, provider_id: str, now: datetime
) -> None:
    """A provider inactive in the register, or with a document missing or expired,
    cannot bid; the refusal names the document."""
    providers, documents = await load_providers(uow, [provider_id])
    provider = providers.get(provider_id) or d.ProviderSnapshot(provider_id, active=False)
    d.require_admissible(scheme, provider, documents.get(provider_id, ()), london_date(now))


@dataclass(frozen=True)
class Withdrawn:
    bid: BidRow
    deadline_at: datetime


async def withdraw_bid(
    uow: UnitOfWork, actor: Actor, competition_id: str, provider_id: str, now: datetime
) -> Withdrawn:
    """The provider withdraws its live bid before the deadline; the bid is kept
    (superseded) but not evaluated (d.WITHDRAWAL_SOURCE)."""
    row, c = await invited_competition(uow, competition_id, provider_id)
    live = next(iter(await provider_live_bid_rows(uow, row, provider_id)), None)
    d.withdraw_bid(c, None if live is None else bid_to_domain(live), now=now)
    assert live is not None
    live.superseded = True
    live.withdrawn_at = now
    uow.session.add(live)
    uow.audit(
        actor, "bid.withdrawn", "competition", competition_id, bid_id=live.id, version=live.version
    )
    return Withdrawn(live, row.deadline_at)
