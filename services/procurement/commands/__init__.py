"""Procurement's use cases: every write the API, the Kafka handlers and the Temporal
activities make goes through a function here (state, events and audit in one unit of
work). A module per concern; the public names are re-exported here."""

from services.procurement.commands._actors import CLOCK, NEEDS, REGISTER
from services.procurement.commands.awards import (
    AfterCommit,
    ScoredBid,
    decide_award,
    rank_evaluation,
    score_bid,
)
from services.procurement.commands.call_offs import (
    emit_invitations,
    emit_no_eligible,
    invite_late_joiners,
    open_call_off,
)
from services.procurement.commands.deadlines import (
    application_clock,
    end_standstill,
    mark_application_overdue,
    mark_declaration_overdue,
    mark_notice_overdue,
    remind_evaluators,
)
from services.procurement.commands.evaluation import (
    EVALUATOR_QUALITY_BASIS,
    PRICE_ONLY_BASIS,
    SET_ASIDE_BASIS,
    assess_bids,
    close_and_evaluate,
    evaluate_row,
    finish_evaluation,
)
from services.procurement.commands.needs import (
    check_phase_transfer,
    need_age,
    need_origin,
    need_spec,
    need_title,
    open_need_call_off,
    scheme_for_need,
)
from services.procurement.commands.register import (
    district_centroid,
    follow_register_status,
    record_document_expiring,
    record_membership_change,
    record_provider_snapshot,
    record_provider_status,
    set_aside_open_bids,
)

__all__ = [
    "CLOCK",
    "EVALUATOR_QUALITY_BASIS",
    "NEEDS",
    "PRICE_ONLY_BASIS",
    "REGISTER",
    "SET_ASIDE_BASIS",
    "AfterCommit",
    "ScoredBid",
    "application_clock",
    "assess_bids",
    "check_phase_transfer",
    "close_and_evaluate",
    "decide_award",
    "district_centroid",
    "emit_invitations",
    "emit_no_eligible",
    "end_standstill",
    "evaluate_row",
    "finish_evaluation",
    "follow_register_status",
    "invite_late_joiners",
    "mark_application_overdue",
    "mark_declaration_overdue",
    "mark_notice_overdue",
    "need_age",
    "need_origin",
    "need_spec",
    "need_title",
    "open_call_off",
    "open_need_call_off",
    "rank_evaluation",
    "record_document_expiring",
    "record_membership_change",
    "record_provider_snapshot",
    "record_provider_status",
    "remind_evaluators",
    "scheme_for_need",
    "score_bid",
    "set_aside_open_bids",
]
