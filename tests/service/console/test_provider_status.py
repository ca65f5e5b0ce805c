"""A commissioner moves a provider on the register from the console: a registered provider
admitted to the market, then suspended, each with a reason; an empty form and an unlawful
move (back to registered is not offered; removed is final) are shown as the GOV.UK error
summary; a monitoring officer has no such form and is refused the route."""

from __future__ import annotations

from pathlib import Path

from shared.runtime import ServiceRuntime
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_portal import signed_in
from tests.service.console.test_portal_record import console_over, record, registered
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.provider_registry.conftest import (  # noqa: F401  (the fixtures)
    broker_and_registry,
    registry,
)


async def test_a_commissioner_admits_suspends_and_cannot_revive_a_removed_provider(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    provider_id = await registered(registry, 700301)
    action = f"/providers/{provider_id}/status"
    async with console_over(registry, placements, tmp_path) as client:
        await signed_in(client, "commissioner")
        page = (await client.get(f"/providers/{provider_id}")).text
        assert f'action="{action}"' in page and 'value="registered"' not in page
        empty = await client.post(action, data=form_of(page, action))
        assert empty.status_code == 400
        assert 'href="#status"' in empty.text and 'href="#status_reason"' in empty.text
        fields = {**form_of(page, action), "status": "active", "status_reason": "Checks done"}
        twice = [await client.post(action, data=fields) for _ in range(2)]
        assert [r.status_code for r in twice] == [303, 303]  # one form acts once
        page = (await client.get(twice[0].headers["location"])).text
        assert "status was changed." in page
        assert (await record(registry, provider_id))["status"] == "active"
        removed = {**form_of(page, action), "status": "removed", "status_reason": "Closed"}
        refused = await client.post(action, data=removed)  # active -> removed is not lawful
        assert refused.status_code == 400 and "govuk-error-summary" in refused.text
        assert (await record(registry, provider_id))["status"] == "active"
        await signed_in(client, "monitoring_officer")
        officer = (await client.get(f"/providers/{provider_id}")).text
        assert f'action="{action}"' not in officer
        assert (await client.post(action, data=form_of(page, action))).status_code == 403
