"""An overdue notice of any kind procurement tracks, PCR 2015's or the Procurement Act
2023's, raises the one notice-overdue alert on its scheme, once per notice; the rule
cites both regimes and the alert's cause names the notice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.monitoring.domain import (
    DEFAULT_RULES,
    SOURCE_NOTICES,
    AlertTarget,
    NoticeOverdue,
    Severity,
    evaluate_rules,
    raise_alerts,
)
from shared.contracts import procurement_v1

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
KINDS: tuple[str, ...] = procurement_v1.NoticeKind.__args__  # type: ignore[attr-defined]


def overdue(kind: str, notice_id: str, evidence_id: str = "ev-1") -> NoticeOverdue:
    return NoticeOverdue(
        evidence_id=evidence_id,
        scheme_id="dm-1",
        notice_id=notice_id,
        notice_kind=kind,
        competition_id="c-1",
        due_on=date(2026, 5, 30),
        rule="Procurement Act 2023 s.53(1): a contract details notice within 30 days",
    )


def test_the_contract_lists_the_act_notices_as_well_as_pcrs() -> None:
    assert {"award", "dps_period_change"} < set(KINDS)
    assert {
        "tender",
        "transparency",
        "contract_award",
        "contract_details",
        "contract_change",
        "contract_termination",
        "procurement_termination",
        "dynamic_market_intention",
        "dynamic_market_establishment",
        "dynamic_market_modification",
        "dynamic_market_cessation",
    } <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_notice_kind_overdue_raises_the_notice_overdue_alert(kind: str) -> None:
    notice_id = f"{kind.replace('_', '-')}-c-1"
    (match,) = evaluate_rules(DEFAULT_RULES, overdue(kind, notice_id))
    assert match.rule_id == "notice-overdue" and match.severity is Severity.WARNING
    assert (match.target, match.target_id) == (AlertTarget.SCHEME, "dm-1")
    assert match.cause == f"notice:{notice_id}"


def test_one_alert_per_notice_however_often_it_is_reported() -> None:
    matches = [
        *evaluate_rules(DEFAULT_RULES, overdue("contract_details", "contract-details-c-1")),
        *evaluate_rules(DEFAULT_RULES, overdue("contract_details", "contract-details-c-1", "ev-2")),
        *evaluate_rules(DEFAULT_RULES, overdue("contract_award", "contract-award-c-1", "ev-3")),
    ]
    raised = raise_alerts(matches, open_alerts=[], now=NOW, new_alert_id=lambda m: m.evidence_ref)
    assert sorted(a.cause for a in raised) == [
        "notice:contract-award-c-1",
        "notice:contract-details-c-1",
    ]


def test_the_rule_cites_the_act_and_its_regulations_beside_pcr_2015() -> None:
    (rule,) = [r for r in DEFAULT_RULES if r.rule_id == "notice-overdue"]
    assert rule.source == SOURCE_NOTICES
    for cited in ("reg 50", "reg 34(27)", "Procurement Act 2023", "53", "80", "39"):
        assert cited in SOURCE_NOTICES
    assert "Procurement Regulations 2024" in SOURCE_NOTICES
