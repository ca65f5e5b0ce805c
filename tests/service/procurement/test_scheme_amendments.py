"""Amending a scheme (PATCH /schemes/{id}), issue 14: every scheme status against every
amendable field. A draft changes freely; an open or suspended scheme only its title, or
its term to the next extension the notice allowed (with the period notice owed); a
closed scheme never. The rules and their sources are services/procurement/domain.py
AMENDMENT_RULES."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from services.procurement import domain as d
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from tests.fixtures import today
from tests.service.procurement.conftest import TIERED, Driver

# Within the PCR 2015 long-stop (23 February 2029) with the first extension.
TERM_END = today() + timedelta(days=365)
FIRST_EXTENSION = TERM_END + timedelta(days=365)
EXTENSIONS = {
    "term_end": TERM_END.isoformat(),
    "extension_ends": [
        FIRST_EXTENSION.isoformat(),
        (FIRST_EXTENSION + timedelta(days=365)).isoformat(),
    ],
}

# One change per amendable field, as a commissioner would send it.
CHANGES: dict[str, Any] = {
    "title": "NMISS DPS (renamed)",
    "categories": [
        {"code": "asd-day", "name": "ASD day", "need_types": ["ASD"], "attendance": ["day"]},
        {"code": "semh-day", "name": "SEMH day", "need_types": ["SEMH"], "attendance": ["day"]},
    ],
    "lots": [{"code": "lot2", "name": "Lot 2", "min_quality_score": "70"}, TIERED["lots"][1]],
    "selection_questions": [
        {
            "question_id": "quality",
            "text": "Quality",
            "kind": "scored",
            "max_score": 100,
            "weight": 1,
        }
    ],
    "pass_mark": "40",
    "required_documents": ["insurance"],
    "award_criteria": {
        "quality_weight": 70,
        "price_weight": 30,
        "quality_questions": [{"question_id": "fit", "text": "Fit", "max_score": 10, "weight": 1}],
    },
    "min_tender_days": 14,
    "term_start": (today() - timedelta(days=20)).isoformat(),
    "term_end": FIRST_EXTENSION.isoformat(),  # the next extension the notice allowed
    "max_extension_end": (FIRST_EXTENSION + timedelta(days=365)).isoformat(),
    "extension_ends": [(TERM_END + timedelta(days=200)).isoformat()],
}
# A draft's term end is any date (before its first extension); once open, the next
# extension only.
DRAFT_CHANGES = {"term_end": (TERM_END + timedelta(days=100)).isoformat()}
# max_extension_end must be the last extension's end when both are given.
PAIRED = {"max_extension_end": {"extension_ends": [CHANGES["max_extension_end"]]}}


async def scheme_in(proc: Driver, status: str) -> str:
    scheme_id = await proc.scheme(open=status != "draft", **TIERED, **EXTENSIONS)
    async with proc.client() as c:
        if status in ("suspended", "closed"):
            action = "suspend" if status == "suspended" else "close"
            r = await c.post(f"/schemes/{scheme_id}/status", json={"action": action, "reason": "r"})
            assert r.status_code == 200, r.text
    return scheme_id


def expected(status: str, field: str) -> tuple[int, str]:
    if status == "draft":
        return 200, ""
    if status == "closed":
        return 409, "invalid_transition"
    if d.AMENDMENT_RULES[field].while_live is d.WhileLive.REFUSED:
        return 409, "amendment_refused"
    return 200, ""


def test_every_amendable_field_has_a_change_and_a_source() -> None:
    assert set(CHANGES) == set(d.AMENDMENT_RULES)
    assert all(rule.source for rule in d.AMENDMENT_RULES.values())


@pytest.mark.parametrize("field", sorted(CHANGES))
@pytest.mark.parametrize("status", ["draft", "open", "suspended", "closed"])
async def test_each_status_and_field(proc: Driver, status: str, field: str) -> None:
    scheme_id = await scheme_in(proc, status)
    change = DRAFT_CHANGES.get(field, CHANGES[field]) if status == "draft" else CHANGES[field]
    body = {field: change, **PAIRED.get(field, {}), "reason": "Corrected after review"}
    async with proc.client() as c:
        before = (await c.get(f"/schemes/{scheme_id}")).json()
        r = await c.patch(f"/schemes/{scheme_id}", json=body)
        after = (await c.get(f"/schemes/{scheme_id}")).json()
    code, rule = expected(status, field)
    assert r.status_code == code, r.text
    amended = await proc.events("procurement.scheme.amended")
    if code != 200:
        assert r.json()["detail"][0]["rule"].startswith(rule)
        assert after == before and amended == []
        return
    assert field in amended[0]["changed"] and amended[0]["status"] == status
    if field == "term_end" and status != "draft":  # the extension, its notice owed
        assert after["term_end"] == before["term_end"]
        assert after["extensions"][0]["term_end"] == CHANGES["term_end"]
        assert after["period_notices"][0]["change"] == "extended"
        assert len(await proc.events("procurement.scheme.extended")) == 1
    else:
        assert after != before and after["status"] == status


async def test_a_live_amendment_needs_a_reason_and_a_change(proc: Driver) -> None:
    scheme_id = await scheme_in(proc, "open")
    async with proc.client() as c:
        current = (await c.get(f"/schemes/{scheme_id}")).json()
        no_reason = await c.patch(f"/schemes/{scheme_id}", json={"title": "New"})
        assert no_reason.status_code == 422
        assert no_reason.json()["detail"][0]["field"] == "reason"
        # The console sends the whole form: values as they are change nothing.
        same = await c.patch(
            f"/schemes/{scheme_id}",
            json={"lots": current["lots"], "title": current["title"], "reason": "r"},
        )
        assert same.status_code == 422 and same.json()["detail"][0]["rule"].startswith("required")
        unchanged_lots = await c.patch(
            f"/schemes/{scheme_id}",
            json={"lots": current["lots"], "title": "Renamed", "reason": "Typo"},
        )
        assert unchanged_lots.status_code == 200 and unchanged_lots.json()["title"] == "Renamed"
        # Only the next extension: not a date of one's own, nor the second one first.
        for end in (TERM_END + timedelta(days=10), FIRST_EXTENSION + timedelta(days=365)):
            r = await c.patch(
                f"/schemes/{scheme_id}", json={"term_end": end.isoformat(), "reason": "Longer"}
            )
            assert r.status_code == 422 and r.json()["detail"][0]["field"] == "term_end"
            assert "extension_not_available" in r.json()["detail"][0]["rule"]
    audited = await proc.count(AuditEntry)
    assert audited == 2  # created, amended once


async def test_a_draft_amendment_is_validated_as_a_new_scheme(proc: Driver) -> None:
    scheme_id = await scheme_in(proc, "draft")
    async with proc.client() as c:
        bad = await c.patch(
            f"/schemes/{scheme_id}", json={"term_end": (today() - timedelta(days=60)).isoformat()}
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "term_end"
        weights = await c.patch(
            f"/schemes/{scheme_id}",
            json={"award_criteria": {**CHANGES["award_criteria"], "price_weight": 40}},
        )
        assert weights.status_code == 422
        assert weights.json()["detail"][0]["field"] == "award_criteria.price_weight"
        assert (await c.patch("/schemes/nope", json={"title": "x"})).status_code == 404


async def test_only_a_commissioner_amends(proc: Driver) -> None:
    scheme_id = await scheme_in(proc, "draft")
    for role in (Role.PROVIDER, Role.MONITORING_OFFICER, Role.COUNCIL_SYSTEM, Role.ADMIN):
        async with proc.client(role, "p-1" if role is Role.PROVIDER else None) as c:
            r = await c.patch(f"/schemes/{scheme_id}", json={"title": "x"})
            assert r.status_code == 403, role


def test_amendment_rules_cover_each_live_outcome() -> None:
    outcomes = {rule.while_live for rule in d.AMENDMENT_RULES.values()}
    assert outcomes == set(d.WhileLive)
    assert date.fromisoformat(CHANGES["term_end"]) == FIRST_EXTENSION
