"""The HTTP edge of every service: bodies capped (413), security headers on every
response, /docs, /openapi.json and /metrics closable, /readyz without exception text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from faststream.kafka import KafkaBroker, TestKafkaBroker

from dps import processes
from shared.contracts.common import Role
from shared.http import ErrorBody, MessageBody, create_app
from shared.ingest import MAX_BODY_BYTES, SINGLE_CONTENT_TYPE
from shared.runtime import ServiceRuntime
from shared.settings import SERVICES
from tests.harness import client_for, make_runtime

MIB = 1024 * 1024
DOCS = Path(__file__).parents[2] / "docs" / "api"
DOCUMENTED = {
    "401": "MessageBody",
    "403": "MessageBody",
    "404": "MessageBody",
    "409": "ErrorBody",
    "413": "ErrorBody",
    "422": "ErrorBody",
    "429": "MessageBody",
}


def _client(runtime: ServiceRuntime, base_url: str = "http://test") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=runtime.build_app())
    return httpx.AsyncClient(transport=transport, base_url=base_url)


def _big_provider(size: int) -> bytes:
    return json.dumps({"name": "x" * size}).encode()


async def test_a_body_declared_over_the_limit_is_refused_with_the_error_shape(
    tmp_path: Path,
) -> None:
    runtime = make_runtime("provider_registry", "sqlite+aiosqlite://", tmp_path)
    async with _client(runtime) as client:
        response = await client.post("/providers", content=_big_provider(2 * MIB))
    assert response.status_code == 413
    [error] = response.json()["detail"]
    assert (error["field"], error["rule"]) == ("body", "too_large")
    assert str(MIB) in error["message"]


async def test_a_chunked_body_is_counted_as_it_arrives(tmp_path: Path) -> None:
    runtime = make_runtime("provider_registry", "sqlite+aiosqlite://", tmp_path)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 64 * 1024  # 2.5 MiB in all, no Content-Length

    async with _client(runtime) as client:
        response = await client.post(
            "/providers", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["detail"][0]["rule"] == "too_large"


async def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    runtime = make_runtime(
        "provider_registry", "sqlite+aiosqlite://", tmp_path, max_body_bytes=4096
    )
    async with _client(runtime) as client:
        response = await client.post("/providers", content=_big_provider(5000))
    assert response.status_code == 413


async def test_ehc_events_keep_their_own_larger_limit(
    tmp_path: Path, tokens: dict[Role, str]
) -> None:
    broker = KafkaBroker()
    runtime = make_runtime(
        "placements", f"sqlite+aiosqlite:///{tmp_path}/p.db", tmp_path, shared_broker=broker
    )
    event = {"specversion": "1.0", "id": "e-1", "padding": "x" * (2 * MIB)}
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            async with client_for(runtime, tokens[Role.COUNCIL_SYSTEM]) as client:
                headers = {"Content-Type": SINGLE_CONTENT_TYPE}
                taken = await client.post("/ehc-events", content=json.dumps(event), headers=headers)
                event["padding"] = "x" * (MAX_BODY_BYTES + 1)
                refused = await client.post(
                    "/ehc-events", content=json.dumps(event), headers=headers
                )
        finally:
            await runtime.stop()
    assert taken.status_code == 422  # read, and rejected as an event: not too large
    assert refused.status_code == 413


async def test_every_response_carries_the_security_headers(
    tmp_path: Path, tokens: dict[Role, str]
) -> None:
    runtime = make_runtime("provider_registry", "sqlite+aiosqlite://", tmp_path)
    async with _client(runtime) as client:
        anonymous = await client.get("/healthz")
        authenticated = await client.get(
            "/nowhere", headers={"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
        )
    for response in (anonymous, authenticated):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert "strict-transport-security" not in response.headers  # plain HTTP
    assert authenticated.headers["cache-control"] == "no-store"
    assert "cache-control" not in anonymous.headers


@pytest.mark.parametrize(
    ("base_url", "forwarded", "trusted", "hsts"),
    [
        ("https://test", None, False, True),
        ("http://test", "https", True, True),
        ("http://test", "https", False, False),  # an untrusted header is ignored
    ],
)
async def test_hsts_is_sent_over_tls_only(
    tmp_path: Path, base_url: str, forwarded: str | None, trusted: bool, hsts: bool
) -> None:
    runtime = make_runtime(
        "provider_registry", "sqlite+aiosqlite://", tmp_path, trust_forwarded_proto=trusted
    )
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    async with _client(runtime, base_url) as client:
        response = await client.get("/healthz", headers=headers)
    assert ("strict-transport-security" in response.headers) is hsts


async def test_docs_openapi_and_metrics_can_be_closed(tmp_path: Path) -> None:
    open_runtime = make_runtime("monitoring", "sqlite+aiosqlite://", tmp_path)
    closed = make_runtime(
        "monitoring",
        "sqlite+aiosqlite://",
        tmp_path,
        expose_docs=False,
        expose_metrics=False,
    )
    paths = ("/docs", "/openapi.json", "/metrics")
    async with _client(open_runtime) as client:
        assert [(await client.get(p)).status_code for p in paths] == [200, 200, 200]
    async with _client(closed) as client:
        assert [(await client.get(p)).status_code for p in paths] == [404, 404, 404]


async def test_metrics_can_be_served_on_an_internal_port(tmp_path: Path) -> None:
    port = processes.free_port()
    broker = KafkaBroker()
    runtime = make_runtime(
        "monitoring",
        f"sqlite+aiosqlite:///{tmp_path}/m.db",
        tmp_path,
        shared_broker=broker,
        expose_metrics=False,
        metrics_port=port,
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            async with httpx.AsyncClient() as scraper:
                body = (await scraper.get(f"http://127.0.0.1:{port}/metrics")).text
        finally:
            await runtime.stop()
    assert "python_info" in body


async def test_readyz_never_returns_exception_text(tmp_path: Path) -> None:
    # Nothing started: the database has no tables and the broker is unreachable.
    runtime = make_runtime("placements", f"sqlite+aiosqlite:///{tmp_path}/none.db", tmp_path)
    async with _client(runtime) as client:
        response = await client.get("/readyz")
    body = response.json()
    assert set(body) == {"ready", "checks"}
    assert set(body["checks"].values()) <= {"ok", "unavailable"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_documents_the_error_bodies(service: str) -> None:
    doc = json.loads((DOCS / f"{service}.openapi.json").read_text())
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for code, model in DOCUMENTED.items():
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                ref = {"$ref": f"#/components/schemas/{model}"}
                # A route may answer more (POST /ehc-events: each event's fate on a 422).
                assert schema == ref or ref in schema.get("anyOf", []), (method, path)


async def test_the_error_bodies_are_what_the_documents_say(
    tmp_path: Path, tokens: dict[Role, str]
) -> None:
    broker = KafkaBroker()
    runtime = make_runtime(
        "provider_registry", f"sqlite+aiosqlite:///{tmp_path}/r.db", tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            async with _client(runtime) as client:
                unauthorised = await client.get("/providers/p-1")
                auth = {"Authorization": f"Bearer {tokens[Role.COMMISSIONER]}"}
                missing = await client.get("/providers/p-404", headers=auth)
                invalid = await client.post("/providers", json={"name": "\x00"}, headers=auth)
                too_large = await client.post("/providers", content=_big_provider(2 * MIB))
        finally:
            await runtime.stop()
    assert (unauthorised.status_code, missing.status_code) == (401, 404)
    assert (invalid.status_code, too_large.status_code) == (422, 413)
    for response in (unauthorised, missing):
        MessageBody.model_validate(response.json())
    for response in (invalid, too_large):
        ErrorBody.model_validate(response.json())


def test_a_value_the_database_cannot_hold_is_a_422_not_a_500(tmp_path: Path) -> None:
    app = create_app("x", title="x", jwt_secret="s", checks={})

    @app.get("/overflow")
    async def overflow() -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    response = TestClient(app).get("/overflow")
    assert response.status_code == 422
    [error] = ErrorBody.model_validate(response.json()).detail
    assert error.rule == "out_of_range"
    assert "SQLite" not in response.text  # the cause goes to the log, not to the caller


async def test_readyz_names_a_broken_database_without_its_error(tmp_path: Path) -> None:
    # Nothing listens on port 1: the database cannot be reached.
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/registry"
    runtime = make_runtime("provider_registry", unreachable, tmp_path)
    async with _client(runtime) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"
    assert "unable to open" not in response.text.lower()
    assert "psycopg" not in response.text.lower()
    assert "refused" not in response.text.lower()
