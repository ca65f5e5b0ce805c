"""The training clock in the console: a banner on every page in training mode only, the
/training control page (signed-in staff, CSRF, a whole number of days, Temporal down gives
a page naming it) and no such page outside training."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from shared import clock, training
from tests.service.console.test_console import console, console_settings, csrf_of, sign_in

BANNER = "Training: time is simulated"


@pytest.fixture(autouse=True)
def wall_clock_after(tmp_path: Path) -> Iterator[None]:
    yield
    clock.configure(training=False, production=False, data_dir=tmp_path)


async def test_every_page_says_time_is_simulated_only_in_training(tmp_path: Path) -> None:
    async with console(console_settings(tmp_path)) as client:
        assert BANNER not in (await client.get("/sign-in")).text
        await sign_in(client, "commissioner")
        assert BANNER not in (await client.get("/accessibility")).text
        assert (await client.get("/training")).status_code == 404
    training.start_training(tmp_path)
    clock.write_offset(tmp_path, timedelta(days=12))
    async with console(console_settings(tmp_path, training=True)) as client:
        for path in ("/sign-in", "/accessibility"):
            text = (await client.get(path)).text
            assert BANNER in text and "12.0 days ahead of the calendar" in text
        await sign_in(client, "commissioner")
        text = (await client.get("/accessibility")).text
        assert 'href="/training">training clock</a>' in text
        page = await client.get("/training")
        assert page.status_code == 200 and "12.0 days" in page.text


async def test_the_form_checks_csrf_and_days_and_names_temporal_when_down(
    tmp_path: Path,
) -> None:
    training.start_training(tmp_path)
    settings = console_settings(tmp_path, training=True, temporal_address="127.0.0.1:1")
    async with console(settings) as client:
        assert (await client.get("/training")).headers["location"] == "/sign-in"
        token = await sign_in(client, "monitoring_officer")
        refused = await client.post("/training", data={"days": "3"})
        assert refused.status_code == 403
        for bad in ("", "0", "-2", "1.5", "three", "121"):
            answer = await client.post("/training", data={"days": bad, "csrf_token": token})
            assert answer.status_code == 400 and "There is a problem" in answer.text
            assert "Enter a whole number of days from 1 to 120" in answer.text
        down = await client.post("/training", data={"days": "3", "csrf_token": token})
        assert down.status_code == 503 and "Temporal" in down.text
        assert clock.read_offset(tmp_path) == timedelta(0)
        assert csrf_of(down.text)


async def test_providers_may_not_move_the_clock(tmp_path: Path) -> None:
    training.start_training(tmp_path)
    async with console(console_settings(tmp_path, training=True)) as client:
        token = csrf_of((await client.get("/sign-in")).text)
        signed = await client.post(
            "/sign-in/dev", data={"person": "provider:p-1", "csrf_token": token}
        )
        assert signed.status_code == 303, signed.text
        assert (await client.get("/training")).status_code == 403
        token = csrf_of((await client.get("/accessibility")).text)
        answer = await client.post("/training", data={"days": "3", "csrf_token": token})
        assert answer.status_code == 403 and clock.read_offset(tmp_path) == timedelta(0)
