"""The console shows each placement's legal basis in words and the three spend figures
(on contract, off contract lawful, off contract non-compliant), on the page and in the
CSV, against the real placements service (issue 19)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from shared.contracts.common import Role
from tests.service.console.test_console import console_settings, monitoring, sign_in  # noqa: F401
from tests.service.console.test_placements import _financial_year, console_over
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.placements.test_import import _post, batch, item


async def test_spend_and_placement_pages_show_the_basis_and_the_three_figures(
    placements: Placements,  # noqa: F811
    tokens: dict[Role, str],
    tmp_path: Path,
) -> None:
    order = item(
        child_ref="KCC-EHC-IMP-0201",
        weekly_core_fee="1000.00",
        basis="tribunal_order",
        basis_reference="EH886/25/00045",
    )
    spot = item(child_ref="KCC-EHC-IMP-0202", weekly_core_fee="500.00")
    made = await _post(placements, tokens[Role.COMMISSIONER], batch(order, spot))
    assert made.status_code == 201, made.text
    order_id, spot_id = made.json()["placement_ids"]
    year = _financial_year()
    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "commissioner")
        shown = await client.get("/spend", params={"year": year})
        assert shown.status_code == 200, shown.text
        for words in (
            "Off contract, lawful basis",
            "Off contract, non-compliant",
            "Direct award: a tribunal order naming the school",
            "Spot purchase with no lawful basis recorded",
        ):
            assert words in shown.text, words
        rows = list(
            csv.reader(io.StringIO((await client.get("/spend.csv", params={"year": year})).text))
        )
        contract = {r[2]: r[3] for r in rows if r[1] == "contract"}
        assert float(contract["off contract, lawful basis"]) > 0
        assert float(contract["off contract, non-compliant"]) > 0
        assert float(contract["off contract, lawful basis"]) + float(
            contract["off contract, non-compliant"]
        ) == float(contract["off contract"])
        assert any(r[1] == "legal basis" and r[2].startswith("Direct award") for r in rows)
        page = await client.get(f"/placements/{order_id}")
        assert "Direct award: a tribunal order naming the school, reference EH886/25/00045" in (
            page.text
        )
        assert "(non-compliant)" in (await client.get(f"/placements/{spot_id}")).text
