"""Screenshots of the console's main pages for the README, taken on the real stack with
the browser tests' seed (`make screenshots`, or DPS_SCREENSHOTS=1). Skipped otherwise:
the pictures are documentation, not a check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from shared.contracts.common import Role
from tests.browser.test_console import (
    CHROMIUM,
    Seeded,
    _client,
    browser,
    seeded,
    sign_in,
)
from tests.e2e.steps import ok, token

__all__ = ["browser", "seeded"]  # the module-scoped fixtures, shared
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not os.environ.get("DPS_SCREENSHOTS"), reason="DPS_SCREENSHOTS unset"),
]
WIDTH, HEIGHT = 1280, 900


def shoot(page: Any, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_screenshots_of_the_main_pages(seeded: Seeded, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    monitoring = _client(seeded.stack, "monitoring", token(Role.MONITORING_OFFICER))
    provider_id = ok(monitoring.get(f"/alerts/{seeded.alert_id}"))["provider_id"]
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    c = seeded.console
    shoot(page, f"{c}/sign-in", "sign-in")
    sign_in(page, c, "Demo commissioner", check=False)
    shoot(page, f"{c}/", "commissioner-home")
    shoot(page, f"{c}/applications", "applications")
    shoot(page, f"{c}/applications/{seeded.applications[2]}", "application")
    shoot(page, f"{c}/providers", "providers")
    shoot(page, f"{c}/providers/{provider_id}", "provider")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, c, "Demo monitoring officer", check=False)
    shoot(page, f"{c}/alerts", "alerts")
    shoot(page, f"{c}/alerts/{seeded.alert_id}", "alert")
    page.close()
    taken = sorted(p.name for p in SHOTS.glob("*.png"))
    assert {"commissioner-home.png", "alerts.png", "application.png"} <= set(taken)
