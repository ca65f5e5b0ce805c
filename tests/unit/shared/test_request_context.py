"""Each request's correlation id, log line and metrics (shared.http.RequestContext)."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from shared.http import create_app
from shared.unit_of_work import current_correlation_id

SERVICE = "request-context-test"


def _app() -> FastAPI:
    app = create_app(SERVICE, title="t", jwt_secret=None, checks={})

    @app.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str | None]:
        return {"thing": thing_id, "correlation_id": current_correlation_id.get()}

    return app


def _count(route: str, status: str) -> float:
    labels = {"service": SERVICE, "method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("dps_http_requests_total", labels) or 0.0


def test_a_callers_id_is_used_in_the_request_and_sent_back() -> None:
    client = TestClient(_app())
    response = client.get("/things/7", headers={"X-Correlation-ID": "journey-42"})
    assert response.status_code == 200
    assert response.json() == {"thing": "7", "correlation_id": "journey-42"}
    assert response.headers["X-Correlation-ID"] == "journey-42"
    assert current_correlation_id.get() is None  # not left behind after the request


def test_a_request_without_one_gets_a_fresh_id() -> None:
    client = TestClient(_app())
    first = client.get("/things/1")
    second = client.get("/things/1")
    made = first.headers["X-Correlation-ID"]
    assert uuid.UUID(made)
    assert first.json()["correlation_id"] == made
    assert second.headers["X-Correlation-ID"] != made
    assert len(first.headers.get_list("X-Correlation-ID")) == 1


def test_requests_are_counted_by_route_template_and_status() -> None:
    client = TestClient(_app())
    before_ok = _count("/things/{thing_id}", "200")
    before_missing = _count("unmatched", "404")
    client.get("/things/a")
    client.get("/things/b")
    client.get("/no/such/path")
    assert _count("/things/{thing_id}", "200") == before_ok + 2
    assert _count("unmatched", "404") == before_missing + 1


def test_each_request_is_logged_with_its_id_but_not_the_probes() -> None:
    client = TestClient(_app())
    with capture_logs() as logs:
        client.get("/things/9", headers={"X-Correlation-ID": "log-me"})
        client.get("/healthz")
    lines = [line for line in logs if line["event"] == "http.request"]
    assert [(line["path"], line["status"], line["method"]) for line in lines] == [
        ("/things/9", 200, "GET")
    ]
