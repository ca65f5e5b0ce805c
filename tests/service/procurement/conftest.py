"""A procurement runtime on FastStream's in-memory broker, and a small driver for tests.

Providers reach procurement the way they do in production: as providers.v1 events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import BaseModel
from sqlmodel import func, select

from services.procurement.activities import close_and_evaluate
from services.procurement.models import CompetitionRow
from services.procurement.workflow_types import CompetitionCheck
from shared.auth import issue_token
from shared.contracts import providers_v1
from shared.contracts.common import Role
from shared.envelope import decode_envelope, new_event
from shared.infra_models import OutboxMessage
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.fixtures import today
from tests.harness import client_for, eventually, make_runtime

MAIDSTONE = (51.2720, 0.5290)  # ME14
GLASGOW = (55.8642, -4.2518)


@pytest.fixture
async def proc(database_url: Callable[[str], str], tmp_path: Path) -> AsyncIterator[Driver]:
    broker = KafkaBroker()
    runtime = make_runtime(
        "procurement", database_url("procurement"), tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield Driver(runtime, broker)
        await runtime.stop()


def token(role: Role, provider_id: str | None = None) -> str:
    return issue_token(TEST_SECRET, role, provider_id=provider_id)


def snapshot(provider_id: str, **overrides: Any) -> providers_v1.ProviderSnapshot:
    lat, lon = overrides.pop("latlon", MAIDSTONE)
    body: dict[str, Any] = {
        "provider_id": provider_id,
        "urn": 100000 + abs(hash(provider_id)) % 899999,
        "name": f"School {provider_id}",
        "proprietor": "Trust",
        "provider_type": "independent_special_school",
        "status": "active",
        "age_low": 7,
        "age_high": 16,
        "gender_intake": "mixed",
        "attendance": ["day", "residential_38"],
        "need_types": ["ASD", "SLCN"],
        "capacity": 60,
        "places_in_use": 40,
        "location": {
            "postcode": "ME14 1XX",
            "postcode_district": "ME14",
            "latitude": lat,
            "longitude": lon,
        },
        "documents": [
            {"kind": k, "expires_on": (today() + timedelta(days=365)).isoformat()}
            for k in ("insurance", "safeguarding_policy", "financial_check")
        ],
        "documents_valid": True,
    }
    body.update(overrides)
    return providers_v1.ProviderSnapshot.model_validate(body)


def scheme_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": f"DPS-{uuid.uuid4().hex[:8]}",
        "title": "NMISS DPS",
        "regime": "pcr2015_light_touch",
        "term_start": (today() - timedelta(days=30)).isoformat(),
        "term_end": (today() + timedelta(days=3 * 365)).isoformat(),
        "categories": [
            {"code": "asd-day", "name": "ASD day", "need_types": ["ASD"], "attendance": ["day"]}
        ],
        "selection_questions": [
            {"question_id": "ofsted", "text": "Inspection outcome", "kind": "pass_fail"},
            {
                "question_id": "quality",
                "text": "Quality",
                "kind": "scored",
                "max_score": 100,
                "weight": 1,
            },
        ],
        "pass_mark": "30",
        # An existing DPS imported from before the Procurement Act 2023 went live, with
        # its published call-off rules: tiers and screening, and its award criteria.
        "established_on": "2024-12-02",
        "narrowing_published": True,
        "award_criteria": {
            "quality_weight": 60,
            "price_weight": 40,
            "quality_questions": [
                {"question_id": "fit", "text": "Fit", "max_score": 10, "weight": 1}
            ],
        },
    }
    body.update(overrides)
    return body


TIERED = {
    "lots": [
        {
            "code": "lot2",
            "name": "Lot 2",
            "min_quality_score": "60",
            "block_contracts_allowed": True,
        },
        {"code": "lot1", "name": "Lot 1", "min_quality_score": "30"},
    ]
}


def competition_body(scheme_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scheme_id": scheme_id,
        "category_code": "asd-day",
        "kind": "individual",
        "title": "Placement for child A",
        "need_ref": f"need-{uuid.uuid4().hex[:6]}",
        "filter": {"need_type": "ASD", "attendance": "day", "min_age": 10, "max_age": 10},
        "quality_weight": 60,
        "price_weight": 40,
        "quality_questions": [{"question_id": "fit", "text": "Fit", "max_score": 10, "weight": 1}],
        "deadline_at": (datetime.now(UTC) + timedelta(days=10, minutes=5)).isoformat(),
    }
    body.update(overrides)
    return body


def bid_body(fee: str = "1500.00", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fee_basis": "weekly",
        "core_fee": fee,
        "weeks_per_year": 38,
        "start_date": (today() + timedelta(days=30)).isoformat(),
        "answers": {"fit": "We meet the needs."},
        "additional_support": [
            {"description": "1:1 support", "amount": "200.00", "basis": "weekly"}
        ],
    }
    body.update(overrides)
    return body


@dataclass
class Driver:
    runtime: ServiceRuntime
    broker: KafkaBroker

    def client(
        self, role: Role | None = Role.COMMISSIONER, provider_id: str | None = None
    ) -> httpx.AsyncClient:
        return client_for(self.runtime, token(role, provider_id) if role else None)

    async def publish(self, topic: str, event_type: str, subject: str, payload: BaseModel) -> None:
        envelope = new_event(event_type, source="test", subject=subject, data=payload, topic=topic)
        await self.broker.publish(envelope.to_bytes(), topic, key=subject.encode())

    async def register(self, provider_id: str, **overrides: Any) -> None:
        payload = providers_v1.ProviderRegistered(
            provider=snapshot(provider_id, **overrides), registered_by="test"
        )
        await self.publish(
            providers_v1.TOPIC, providers_v1.PROVIDER_REGISTERED, provider_id, payload
        )

    async def set_status(self, provider_id: str, status: str, previous: str = "active") -> None:
        payload = providers_v1.ProviderStatusChanged(
            provider_id=provider_id,
            urn=123456,
            name="x",
            previous_status=previous,
            status=status,
            changed_by="registrar",
            changed_at=datetime.now(UTC),
            reason="quality",
        )
        await self.publish(
            providers_v1.TOPIC, providers_v1.PROVIDER_STATUS_CHANGED, provider_id, payload
        )

    async def scheme(self, **overrides: Any) -> str:
        async with self.client() as c:
            r = await c.post("/schemes", json=scheme_body(**overrides))
        assert r.status_code == 201, r.text
        return str(r.json()["scheme_id"])

    async def apply(
        self, scheme_id: str, provider_id: str, categories: list[str] | None = None
    ) -> str:
        async with self.client(Role.PROVIDER, provider_id) as c:
            r = await c.post(
                f"/schemes/{scheme_id}/applications",
                json={
                    "requested_categories": categories or ["asd-day"],
                    "answers": {"ofsted": "Good", "quality": "See attached"},
                },
            )
        assert r.status_code == 201, r.text
        return str(r.json()["application_id"])

    async def decide(
        self, application_id: str, score: int = 80, passed: bool = True
    ) -> httpx.Response:
        async with self.client() as c:
            return await c.post(
                f"/applications/{application_id}/decision",
                json={
                    "assessments": {
                        "ofsted": {"passed": passed, "note": "checked"},
                        "quality": {"score": score},
                    }
                },
            )

    async def admit(
        self, scheme_id: str, provider_id: str, score: int = 80, register: bool = True
    ) -> None:
        if register:
            await self.register(provider_id)
        r = await self.decide(await self.apply(scheme_id, provider_id), score)
        assert r.status_code == 200 and r.json()["decision"]["outcome"] == "admitted", r.text

    async def open(self, scheme_id: str, **overrides: Any) -> httpx.Response:
        async with self.client() as c:
            return await c.post("/competitions", json=competition_body(scheme_id, **overrides))

    async def bid(self, competition_id: str, provider_id: str, **body: Any) -> httpx.Response:
        async with self.client(Role.PROVIDER, provider_id) as c:
            return await c.post(f"/competitions/{competition_id}/bids", json=bid_body(**body))

    async def get(
        self, path: str, role: Role = Role.COMMISSIONER, provider_id: str | None = None
    ) -> httpx.Response:
        async with self.client(role, provider_id) as c:
            return await c.get(path)

    async def close(self, competition_id: str) -> str:
        """What the CompetitionWorkflow's timer does at the deadline (no Temporal here)."""
        async with self.runtime.db.session() as session:
            row = await session.get(CompetitionRow, competition_id)
            assert row is not None
            deadline = row.deadline_at
        state = await close_and_evaluate(
            self.runtime.db,
            self.runtime.source,
            CompetitionCheck(competition_id=competition_id, now=deadline + timedelta(seconds=1)),
        )
        return state.status

    async def score(
        self,
        competition_id: str,
        bid_id: str,
        scores: dict[str, Any],
        role: Role = Role.COMMISSIONER,
        evaluator: str | None = None,
        comment: str | None = None,
    ) -> httpx.Response:
        """An evaluator posts quality scores for one bid (``evaluator`` names the token;
        by default not the commissioner who approves awards: separation of duties)."""
        tok = issue_token(TEST_SECRET, role, subject=evaluator or "evaluator")
        async with client_for(self.runtime, tok) as c:
            return await c.post(
                f"/competitions/{competition_id}/bids/{bid_id}/scores",
                json={"scores": scores, "comment": comment},
            )

    async def evaluate(self, competition_id: str, role: Role = Role.COMMISSIONER) -> httpx.Response:
        async with self.client(role) as c:
            return await c.post(f"/competitions/{competition_id}/evaluation")

    async def live_bid(self, competition_id: str, provider_id: str) -> str:
        body = (await self.get(f"/competitions/{competition_id}")).json()
        return str(
            next(
                b["bid_id"]
                for b in body["bids"]
                if b["provider_id"] == provider_id and not b["superseded"]
            )
        )

    async def score_and_evaluate(self, competition_id: str, fit: dict[str, Any]) -> httpx.Response:
        """Score every listed provider's live bid on question ``fit`` and rank them."""
        for provider_id, value in fit.items():
            bid_id = await self.live_bid(competition_id, provider_id)
            r = await self.score(competition_id, bid_id, {"fit": value})
            assert r.status_code == 201, r.text
        return await self.evaluate(competition_id)

    async def award(self, competition_id: str, **body: Any) -> httpx.Response:
        async with self.client() as c:
            return await c.post(
                f"/competitions/{competition_id}/award", json={"decision": "approve", **body}
            )

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        async with self.runtime.db.session() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.seq))).all()
        return [
            {"type": r.event_type, "subject": r.key, **decode_envelope(r.payload).data}
            for r in rows
            if r.topic == "procurement.v1" and (event_type is None or r.event_type == event_type)
        ]

    async def count(self, model: type) -> int:
        async with self.runtime.db.session() as session:
            return int((await session.exec(select(func.count()).select_from(model))).one())

    async def wait_provider(self, provider_id: str, status: str = "active") -> None:
        from services.procurement.models import ProviderRow

        async def there() -> bool:
            async with self.runtime.db.session() as session:
                row = await session.get(ProviderRow, provider_id)
                return row is not None and row.status == status

        await eventually(there, within=5)
