"""Tables of the procurement service (its own database only), and the mapping between
rows and the domain's immutable records.

What is queried is a column (status, ids, deadlines); what is only shown or fed back to
the domain (categories, filters, offers, rankings) is JSON. Decimals are kept as text
in JSON so money and scores round-trip to the penny on SQLite and PostgreSQL alike.

One module per concept; this package re-exports every name, so callers keep
``from services.procurement.models import X``.
"""

from services.procurement.models._base import (
    ProcurementModel,
)
from services.procurement.models.applications import (
    ApplicationClarificationRow,
    ApplicationDraftRow,
    ApplicationRow,
    DecisionRow,
    ProviderRow,
    application_clarification_to_domain,
    application_row,
    application_to_domain,
    decision_row,
    documents_to_domain,
    provider_to_domain,
)
from services.procurement.models.awards import (
    AwardRow,
    NoticeRow,
    TrackedNoticeRow,
    award_to_domain,
    notice_row,
    notice_to_domain,
    tracked_notice_row,
    tracked_notice_to_domain,
)
from services.procurement.models.competitions import (
    BidRow,
    CompetitionRow,
    InvitationRow,
    apply_competition,
    bid_row,
    bid_to_domain,
    competition_row,
    competition_to_domain,
    invitation_row,
    spec_json,
    spec_to_domain,
)
from services.procurement.models.direct_awards import (
    DirectAwardRow,
    direct_award_row,
    direct_award_to_domain,
    direct_award_view,
)
from services.procurement.models.evaluation import (
    ClarificationRow,
    EvaluationRow,
    EvaluatorScoreRow,
    clarification_row,
    clarification_to_domain,
    evaluation_row,
    evaluation_to_domain,
    evaluator_scores_to_domain,
    set_aside_of,
)
from services.procurement.models.memberships import (
    MembershipHistoryRow,
    MembershipRow,
    SelfDeclarationRow,
    apply_membership,
    membership_row,
    membership_to_domain,
    self_declaration_row,
    self_declaration_to_domain,
)
from services.procurement.models.schemes import (
    SchemeRow,
    apply_amendment,
    apply_scheme,
    award_criteria_json,
    award_criteria_to_domain,
    period_notice_json,
    scheme_row,
    scheme_to_domain,
)

__all__ = [
    "ApplicationClarificationRow",
    "ApplicationDraftRow",
    "ApplicationRow",
    "AwardRow",
    "BidRow",
    "ClarificationRow",
    "CompetitionRow",
    "DecisionRow",
    "DirectAwardRow",
    "EvaluationRow",
    "EvaluatorScoreRow",
    "InvitationRow",
    "MembershipHistoryRow",
    "MembershipRow",
    "NoticeRow",
    "ProcurementModel",
    "ProviderRow",
    "SchemeRow",
    "SelfDeclarationRow",
    "TrackedNoticeRow",
    "application_clarification_to_domain",
    "application_row",
    "application_to_domain",
    "apply_amendment",
    "apply_competition",
    "apply_membership",
    "apply_scheme",
    "award_criteria_json",
    "award_criteria_to_domain",
    "award_to_domain",
    "bid_row",
    "bid_to_domain",
    "clarification_row",
    "clarification_to_domain",
    "competition_row",
    "competition_to_domain",
    "decision_row",
    "direct_award_row",
    "direct_award_to_domain",
    "direct_award_view",
    "documents_to_domain",
    "evaluation_row",
    "evaluation_to_domain",
    "evaluator_scores_to_domain",
    "invitation_row",
    "membership_row",
    "membership_to_domain",
    "notice_row",
    "notice_to_domain",
    "period_notice_json",
    "provider_to_domain",
    "scheme_row",
    "scheme_to_domain",
    "self_declaration_row",
    "self_declaration_to_domain",
    "set_aside_of",
    "spec_json",
    "spec_to_domain",
    "tracked_notice_row",
    "tracked_notice_to_domain",
]
