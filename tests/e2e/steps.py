"""What end-to-end tests do through the public contracts: poll, call, publish."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.auth import issue_token
from shared.contracts.common import Role
from shared.envelope import Envelope
from tests.conftest import TEST_SECRET


def wait_for(fetch: Callable[[], Any], within: float = 60.0) -> Any:
    """Poll until `fetch` returns something truthy; return it."""
    end = time.monotonic() + within
    while True:
        value = fetch()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not reached within {within}s")
        time.sleep(0.25)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def token(role: Role, provider_id: str | None = None) -> str:
    return issue_token(TEST_SECRET, role, provider_id=provider_id)


def placement_request(child_ref: str, *, postcode_district: str = "ME14") -> Envelope:
    """What a council's SEND case system publishes when panel agrees a placement."""
    today = date.today()
    return Envelope(
        type="ehc.placement.requested",
        source="council/886/send-case-system",
        subject=child_ref,
        data={
            "child_ref": child_ref,
            "la_code": "886",
            "date_of_birth": "2014-05-01",
            "primary_need": "ASD",
            "secondary_needs": ["SLCN"],
            "attendance": "day",
            "postcode_district": postcode_district,
            "required_start": str(today),
            "max_distance_km": 80,
            "urgent": False,
            "ehc_plan": {
                "issued_on": str(today - timedelta(days=100)),
                "next_review_due": str(today + timedelta(days=200)),
            },
        },
    )


async def send(bootstrap: str, topic: str, *messages: Envelope | bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for message in messages:
            if isinstance(message, Envelope):
                await producer.send_and_wait(topic, message.to_bytes(), key=message.key)
            else:
                await producer.send_and_wait(topic, message, key=b"poison")
    finally:
        await producer.stop()
