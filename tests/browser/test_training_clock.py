"""The training clock's console page in a real browser: the "time is simulated" banner,
axe-core finding no violation on the page and on its error summary, and the form driven
with the keyboard. Only the console runs (the page needs no service to be drawn), started
as `dps up --training` starts it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from shared import clock, training
from shared.settings import SERVICES
from tests.browser.test_console import CHROMIUM, browser, no_violations, sign_in, tab_to
from tests.browser.test_screenshots import SHOTS
from tests.conftest import TEST_SECRET

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("training-console")
    training.start_training(data_dir)
    clock.write_offset(data_dir, timedelta(days=12))
    plan = StackPlan(
        data_dir=data_dir,
        service_ports={name: processes.free_port() for name in SERVICES},  # none listening
        console_port=processes.free_port(),
        extra_env={"DPS_JWT_SECRET": TEST_SECRET, "DPS_TRAINING": "true"},
    )
    stack = Stack(plan)
    try:
        stack.start_console()
        yield f"http://127.0.0.1:{plan.console_port}"
    finally:
        stack.stop()


def test_the_training_clock_page(console: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in(page, console, "Demo commissioner", check=False)
    banner = page.locator(".govuk-warning-text").first
    assert "Training: time is simulated" in banner.inner_text()
    assert "12.0 days ahead" in banner.inner_text()
    banner.get_by_role("link", name="training clock").click()
    expect(page.get_by_role("heading", name="Training clock")).to_be_visible()  # waits
    no_violations(page)
    if os.environ.get("DPS_SCREENSHOTS"):
        page.screenshot(path=str(SHOTS / "training-clock.png"), full_page=True)

    tab_to(page, "days")  # the keyboard alone: to the field, type, on to the button
    page.keyboard.type("500")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    assert "Enter a whole number of days from 1 to 120" in summary.inner_text()
    assert summary.get_by_role("link").get_attribute("href") == "#days"
    no_violations(page)
    page.close()
