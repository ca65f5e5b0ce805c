"""A monitoring officer recommends suspension from the provider's monitoring page; the
recommendation travels monitoring -> quality.v1 -> the register, and the commissioner
sees it on the home page and decides it on the same provider page."""

from __future__ import annotations

from pathlib import Path

from services.monitoring.models import Recommendation
from services.provider_registry.models import RecommendationRow
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import sign_in
from tests.service.console.test_provider_watch import (
    _rows,
    console_over,
    inadequate_provider,
    market,  # noqa: F401  (the fixture)
)


async def test_officer_recommends_and_commissioner_decides(
    market: tuple[ServiceRuntime, ServiceRuntime],  # noqa: F811
    tmp_path: Path,
    tokens: dict[Role, str],
) -> None:
    registry, monitoring = market
    provider_id = await inadequate_provider(registry, monitoring, tokens)
    page_path = f"/providers/{provider_id}/monitoring"
    action = f"/providers/{provider_id}/suspension-recommendations"
    async with console_over(registry, monitoring, tmp_path) as officer:
        csrf = await sign_in(officer, "monitoring_officer")
        shown = (await officer.get(page_path)).text
        assert 'name="grounds"' in shown and "Public Contracts Regulations 2015 reg 57" in shown
        hidden = form_of(shown, action)
        assert hidden["csrf_token"] == csrf and hidden["idempotency_key"]

        empty = await officer.post(action, data=hidden)
        assert empty.status_code == 400
        assert 'href="#grounds"' in empty.text and 'href="#reason"' in empty.text
        named = await officer.post(
            action,
            data={**hidden, "grounds": "safeguarding", "reason": "Child's name: Jo Bloggs"},
        )
        assert named.status_code == 400 and "child" in named.text
        assert 'href="#reason"' in named.text

        form = {
            **form_of(named.text, action),  # the page re-rendered with a fresh one-time key
            "grounds": ["safeguarding", "performance"],
            "reason": "Restraint used twice without a record.",
        }
        sent = await officer.post(action, data=form)
        assert sent.status_code == 303 and sent.headers["location"].endswith("done=recommendation")
        resent = await officer.post(action, data=form)  # the same form again: acts once
        assert resent.status_code == 303
        [kept] = await _rows(monitoring, Recommendation)
        assert (kept.raised_by, kept.grounds) == ("demo-officer", ["safeguarding", "performance"])
        after = (await officer.get(sent.headers["location"])).text
        assert "sent to the commissioner" in after and "By demo-officer" in after
        # A commissioner's form is not the officer's: the decision route refuses them.
        refused = await officer.post(
            f"/providers/{provider_id}/recommendations/{kept.recommendation_id}/decision",
            data={"csrf_token": csrf, "decision": "accept", "decision_reason": "x"},
        )
        assert refused.status_code == 403

    async def recorded() -> bool:
        return len(await _rows(registry, RecommendationRow)) == 1

    await eventually(recorded)
    [row] = await _rows(registry, RecommendationRow)
    assert (row.raised_by, row.status) == ("demo-officer", "pending")

    async with console_over(registry, monitoring, tmp_path) as commissioner:
        await sign_in(commissioner, "commissioner")
        home = (await commissioner.get("/")).text
        assert "Suspension recommendations to decide" in home
        assert f"{page_path}#suspension" in home and "By demo-officer" in home
        shown = (await commissioner.get(page_path)).text
        assert "Restraint used twice without a record." in shown
        assert 'name="grounds"' not in shown  # raising is the officer's, not theirs
        decide = f"/providers/{provider_id}/recommendations/{row.id}/decision"
        hidden = form_of(shown, decide)
        blank = await commissioner.post(decide, data=hidden)
        assert blank.status_code == 400
        assert f'href="#decision-{row.id}"' in blank.text
        assert f'href="#reason-{row.id}"' in blank.text
        decided = await commissioner.post(
            decide, data={**hidden, "decision": "reject", "decision_reason": "Action plan agreed"}
        )
        assert decided.status_code == 303 and decided.headers["location"].endswith("done=decision")
        again = await commissioner.post(
            decide, data={**form_of(shown, decide), "decision": "accept", "decision_reason": "x"}
        )
        assert again.status_code == 400 and "cannot be decided now" in again.text
        home = (await commissioner.get("/")).text
        assert "No suspension recommendation is waiting" in home
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        [done] = (await client.get("/recommendations")).json()
    assert (done["status"], done["decided_by"]) == ("rejected", "demo-commissioner")

    async def closed_in_monitoring() -> bool:
        [kept] = await _rows(monitoring, Recommendation)
        return kept.status == "closed"

    await eventually(closed_in_monitoring)  # provider.recommendation_rejected reached it
