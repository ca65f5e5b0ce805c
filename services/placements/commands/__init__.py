"""Placements' use cases: every write of the service, saved with the events it causes in
one unit of work. Routes, Kafka handlers and Temporal activities call these; nothing else
writes."""

from __future__ import annotations

from services.placements.commands._core import (
    DEFAULT_NOTICE_PERIOD_WEEKS,
    DEFAULT_TERM_YEARS,
    SERVICE_ACTOR,
    derived_id,
    free_block_place,
    record_block_spend,
    record_placement,
    settle_open_offer,
    today,
)
from services.placements.commands.decisions import (
    OfferDecided,
    RenewalDecision,
    create_block_contract,
    decide_block_offer,
    decide_block_renewal,
    decide_renewal,
    decide_uplift,
    end_placement,
    record_imported,
    record_review_outcome,
    request_uplift,
    vary_placement,
)
from services.placements.commands.direct_awards import (
    GROUND_BASIS,
    create_placement_from_direct_award,
)
from services.placements.commands.inbound import (
    PlanApplied,
    PlanBook,
    award_support,
    award_to_domain,
    block_terms,
    create_block_from_award,
    create_placement_from_award,
    end_for_ceased_plan,
    raise_placement_need,
    realign_after_plan_change,
    realign_after_review,
    remember_provider_name,
)
from services.placements.commands.steps import request_block_renewal, take_lifecycle_step

__all__ = [
    "DEFAULT_NOTICE_PERIOD_WEEKS",
    "DEFAULT_TERM_YEARS",
    "GROUND_BASIS",
    "SERVICE_ACTOR",
    "OfferDecided",
    "PlanApplied",
    "PlanBook",
    "RenewalDecision",
    "award_support",
    "award_to_domain",
    "block_terms",
    "create_block_contract",
    "create_block_from_award",
    "create_placement_from_award",
    "create_placement_from_direct_award",
    "decide_block_offer",
    "decide_block_renewal",
    "decide_renewal",
    "decide_uplift",
    "derived_id",
    "end_for_ceased_plan",
    "end_placement",
    "free_block_place",
    "raise_placement_need",
    "realign_after_plan_change",
    "realign_after_review",
    "record_block_spend",
    "record_imported",
    "record_placement",
    "record_review_outcome",
    "remember_provider_name",
    "request_block_renewal",
    "request_uplift",
    "settle_open_offer",
    "take_lifecycle_step",
    "today",
    "vary_placement",
]
