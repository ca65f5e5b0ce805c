"""Procurement's use cases: every write the API, the Kafka handlers and the Temporal
activities make goes through a function here (state, events and audit in one unit of
work). A module per concern; the public names are re-exported here."""

from services.procurement.commands._actors import CLOCK, NEEDS, REGISTER
from services.procurement.commands.applications import (
    ApplicationForm,
    Decided,
    decide_application,
    extend_application,
    save_draft,
    submit_application,
)
from services.procurement.commands.awards import (
    AfterCommit,
    ScoredBid,
    decide_award,
    rank_evaluation,
    score_bid,
)
from services.procurement.commands.bids import (
    BidReceipt,
    Withdrawn,
    no_eligible_refusal,
    open_competition,
    submit_bid,
    withdraw_bid,
)
from services.procurement.commands.call_offs import (
    emit_invitations,
    emit_no_eligible,
    invite_late_joiners,
    open_call_off,
)
from services.procurement.commands.clarifications import (
    answer_application_clarification,
    answer_clarification,
    ask_clarification,
    request_application_clarification,
)
from services.procurement.commands.deadlines import (
    application_clock,
    end_standstill,
    mark_application_overdue,
    mark_declaration_overdue,
    mark_notice_overdue,
    remind_evaluators,
)
from services.procurement.commands.direct_awards import (
    decide_direct_award,
    load_direct_award,
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
from services.procurement.commands.memberships import (
    answer_self_declaration,
    change_membership,
    request_self_declaration,
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
from services.procurement.commands.notices import (
    record_publication,
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
from services.procurement.commands.schemes import (
    SchemeAction,
    SchemeChanged,
    amend_scheme,
    change_scheme_status,
    create_scheme,
    reopen_framework,
)

__all__ = [
    "CLOCK",
    "EVALUATOR_QUALITY_BASIS",
    "NEEDS",
    "PRICE_ONLY_BASIS",
    "REGISTER",
    "SET_ASIDE_BASIS",
    "AfterCommit",
    "ApplicationForm",
    "BidReceipt",
    "Decided",
    "SchemeAction",
    "SchemeChanged",
    "ScoredBid",
    "Withdrawn",
    "amend_scheme",
    "answer_application_clarification",
    "answer_clarification",
    "answer_self_declaration",
    "application_clock",
    "ask_clarification",
    "assess_bids",
    "change_membership",
    "change_scheme_status",
    "check_phase_transfer",
    "close_and_evaluate",
    "create_scheme",
    "decide_application",
    "decide_award",
    "decide_direct_award",
    "district_centroid",
    "emit_invitations",
    "emit_no_eligible",
    "end_standstill",
    "evaluate_row",
    "extend_application",
    "finish_evaluation",
    "follow_register_status",
    "invite_late_joiners",
    "load_direct_award",
    "mark_application_overdue",
    "mark_declaration_overdue",
    "mark_notice_overdue",
    "need_age",
    "need_origin",
    "need_spec",
    "need_title",
    "no_eligible_refusal",
    "open_call_off",
    "open_competition",
    "open_need_call_off",
    "rank_evaluation",
    "record_document_expiring",
    "record_membership_change",
    "record_provider_snapshot",
    "record_provider_status",
    "record_publication",
    "remind_evaluators",
    "reopen_framework",
    "request_application_clarification",
    "request_self_declaration",
    "save_draft",
    "scheme_for_need",
    "score_bid",
    "set_aside_open_bids",
    "submit_application",
    "submit_bid",
    "withdraw_bid",
]
