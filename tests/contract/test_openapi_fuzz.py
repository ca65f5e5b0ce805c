"""Schemathesis over every service's OpenAPI document (issue 13, "Checks in CI").

Each operation gets requests generated from its own schema, valid ones and invalid ones,
sent in-process to the ASGI application with a token of a role the route admits. Every
answer must be no server error, a status code the document lists, of the documented
content type, and a body that conforms to the documented schema.

Bounded and repeatable: a few examples per operation, derandomized (the seed is fixed
by the test's name), so CI sees the same requests every run.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from faststream.kafka import KafkaBroker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import issue_token
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from shared.settings import SERVICES
from tests.conftest import RUN_TTL, TEST_SECRET
from tests.harness import make_runtime

CALL_TIMEOUT_S = 300
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
TOKENS = {
    role: issue_token(
        TEST_SECRET, role, provider_id="p-1" if role is Role.PROVIDER else None, ttl=RUN_TTL
    )
    for role in Role
}


@pytest.fixture
def runtime(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServiceRuntime]:
    service: str = request.param
    runtime = make_runtime(
        service,
        f"sqlite+aiosqlite:///{tmp_path}/{service}.db",
        tmp_path,
        shared_broker=KafkaBroker(),  # never started: the API writes to its outbox only
        rate_limit_writes="1000000/minute",
    )
    runtime.migrate()
    yield runtime


def _role_admitted(case: Case, call: Callable[..., Any]) -> Role:
    """The first role the route does not refuse with 403 (the role checks run before
    anything else looks at the request)."""
    for role in (Role.ADMIN, Role.COMMISSIONER, *Role):
        if call(case, role).status_code != 403:
            return role
    return Role.ADMIN


def _call(case: Case, role: Role) -> Any:
    # Over whatever the case drew for the header (negative cases draw bad ones).
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKENS[role]}"}
    # Schemathesis gives each call 10 s, a timed assertion that a loaded CI machine can
    # fail; this test judges answers, not speed (bench/ measures that).
    return case.call(timeout=CALL_TIMEOUT_S)


def _fuzz(operation: Any, mode: GenerationMode, roles: dict[str, Role]) -> None:
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        if operation.label not in roles:
            roles[operation.label] = _role_admitted(case, _call)
        case.validate_response(_call(case, roles[operation.label]), checks=CHECKS)

    check()


def _described(exc: BaseException) -> str:
    # A group's own message only counts its members ("1 sub-exception"): name each one,
    # so a failure Hypothesis could not repeat still says what it was.
    text = "".join(traceback.format_exception_only(exc))
    for member in getattr(exc, "exceptions", ()):
        text += "\n  " + "".join(traceback.format_exception(member))[-1500:]
    return text[:4000]


@pytest.mark.parametrize("runtime", SERVICES, indirect=True)
def test_every_operation_answers_as_its_document_says(runtime: ServiceRuntime) -> None:
    app = runtime.build_app()
    # Built here first, so the loader's request only sends it: building the placements
    # document once took over the loader's 10 s on a loaded CI machine.
    app.openapi()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, timeout=60)
    failures: list[str] = []
    roles: dict[str, Role] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in EXAMPLES:
            try:
                _fuzz(operation, mode, roles)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {_described(exc)}")
    assert not failures, "\n\n".join(failures)
