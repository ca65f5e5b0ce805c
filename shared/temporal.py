"""Temporal client and worker helpers: one task queue per service, pydantic payloads."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.common import HeaderCodecBehavior
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.exceptions import FailureError
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import TLSConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    Interceptor,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from shared.metrics import ACTIVITY_FAILURES, WORKFLOW_FAILURES
from shared.payload_codec import EncryptionCodec, local_keys, parse_keys
from shared.settings import CommonSettings

# Core's own log lines go to this Python logger (so they are JSON like every other line).
CORE_LOGGER = "temporalio.core"
# Metrics of the SDK's Core that the alert rules and dashboards use, as Prometheus names
# them with the options below (tests/service/test_workflow_metrics.py scrapes them).
CORE_METRICS = (
    "temporal_workflow_task_schedule_to_start_latency_seconds",
    "temporal_workflow_task_execution_failed_total",
    "temporal_workflow_failed_total",
    "temporal_activity_schedule_to_start_latency_seconds",
    "temporal_activity_execution_failed_total",
)
_runtimes: dict[tuple[str, str], Runtime] = {}


def core_runtime(service: str = "", metrics_address: str = "") -> Runtime:
    """This process's Temporal Core runtime (one per metrics address).

    Core logs WARN and above through Python logging (CORE_LOGGER). Given an address
    ("0.0.0.0:9464"), Core serves its Prometheus metrics there, labelled `service`:
    workflow task schedule-to-start latency, task and workflow failures, slots, polls.
    They cannot join the service's /metrics (Core runs its own exporter): a second port,
    DPS_TEMPORAL_METRICS_PORT. Raises ValueError when the address is taken.
    """
    key = (service if metrics_address else "", metrics_address)
    if key not in _runtimes:
        metrics = (
            PrometheusConfig(
                bind_address=metrics_address,
                counters_total_suffix=True,
                unit_suffix=True,
                durations_as_seconds=True,
            )
            if metrics_address
            else None
        )
        forward = LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER))
        _runtimes[key] = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=forward,
                ),
                metrics=metrics,
                global_tags={"service": service} if metrics_address and service else {},
            )
        )
    return _runtimes[key]


async def connect(
    address: str,
    namespace: str = "default",
    *,
    runtime: Runtime | None = None,
    settings: CommonSettings | None = None,
) -> Client:
    """A client whose workflows and activities continue the caller's trace (the
    interceptor also applies to workers built on this client). Given settings, it connects
    with their TLS / API key and encrypts payloads (workers built on it too)."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter(settings),
        # The tracing interceptor's headers (trace context) go through the codec too, so
        # an encrypted history holds no plain JSON at all; a header written before this
        # was on decodes as it is (EncryptionCodec.decode passes unencrypted payloads).
        header_codec_behavior=(
            HeaderCodecBehavior.CODEC if _encrypts(settings) else HeaderCodecBehavior.NO_CODEC
        ),
        interceptors=[TracingInterceptor(), *_training_interceptors(settings)],
        runtime=runtime or core_runtime(),
        tls=tls_config(settings) if settings else False,
        api_key=(settings.temporal_api_key.get_secret_value() or None) if settings else None,
    )


def _training_interceptors(settings: CommonSettings | None) -> list[ClientInterceptor]:
    """`dps up --training`: workflows start as far ahead as the training clock."""
    if settings is None or not settings.training:
        return []
    from shared.training import TrainingStartInterceptor

    return [TrainingStartInterceptor()]


def _encrypts(settings: CommonSettings | None) -> bool:
    return settings is not None and settings.temporal_payload_encryption


def data_converter(settings: CommonSettings | None) -> DataConverter:
    """pydantic payloads, AES-GCM encrypted unless DPS_TEMPORAL_PAYLOAD_ENCRYPTION=false."""
    if settings is None or not settings.temporal_payload_encryption:
        return pydantic_data_converter
    text = settings.temporal_payload_keys.get_secret_value() or local_keys(settings.data_dir)
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=EncryptionCodec(parse_keys(text))
    )


def tls_config(settings: CommonSettings) -> TLSConfig | bool:
    """TLS towards the frontend (DPS_TEMPORAL_TLS*); an API key always travels over TLS."""
    wanted = settings.temporal_tls or bool(settings.temporal_api_key.get_secret_value())
    if not wanted:
        return False

    def read(path: str) -> bytes | None:
        return Path(path).read_bytes() if path else None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca_file),
        client_cert=read(settings.temporal_tls_cert_file),
        client_private_key=read(settings.temporal_tls_key_file),
        domain=settings.temporal_tls_server_name or None,
    )


def make_worker(
    client: Client,
    task_queue: str,
    *,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    service: str = "",
) -> Worker:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*passed_through(workflows))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
        interceptors=[FailureMetrics(service or task_queue)],
        build_id=build_id(workflows),
    )


def build_id(workflows: Sequence[type]) -> str:
    """The worker's build id: a hash of its workflows' source files.

    Without one, temporalio hashes the code of every loaded module, reading each from
    disk on the event loop: several seconds in which the service's loop answers nothing
    (`loop.blocked` at every start on a loaded machine). No worker versioning is used;
    the id only tells which workflow code a worker ran.
    """
    digest = hashlib.sha256()
    for path in sorted({inspect.getsourcefile(w) or "" for w in workflows} - {""}):
        digest.update(Path(path).read_bytes())
    return f"send-dps-{digest.hexdigest()[:16]}"


class FailureMetrics(Interceptor):
    """Counts failed activity attempts and failed workflow runs/tasks per service, for
    the WorkflowFailures alert (deploy/prometheus/dps.rules.yml)."""

    def __init__(self, service: str) -> None:
        self.service = service

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountActivityFailures(next, self.service)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        service = self.service

        class CountWorkflowFailures(WorkflowInboundInterceptor):
            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                try:
                    return await super().execute_workflow(input)
                except Exception as exc:
                    if not workflow.unsafe.is_replaying():
                        # A FailureError fails the workflow; anything else fails the
                        # workflow task, which Temporal retries (a stuck workflow).
                        kind = "workflow" if isinstance(exc, FailureError) else "task"
                        with workflow.unsafe.sandbox_unrestricted():
                            WORKFLOW_FAILURES.labels(
                                service, workflow.info().workflow_type, kind
                            ).inc()
                    raise

        return CountWorkflowFailures


class _CountActivityFailures(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, service: str) -> None:
        super().__init__(next)
        self.service = service

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception:
            ACTIVITY_FAILURES.labels(self.service, input.fn.__name__).inc()
            raise


def passed_through(workflows: Sequence[type]) -> list[str]:
    """The project modules a workflow's sandbox takes as they are instead of re-importing.

    The sandbox re-imports each workflow module for every workflow run. Without this,
    `from services.placements import domain` (even inside `imports_passed_through()`)
    re-executes domain.py per run, on the worker's event loop: about 60 ms a workflow,
    measured by bench/workflows.py. Only the workflow modules themselves stay sandboxed;
    the rest is pure code or runs in activities.
    """
    own = {w.__module__ for w in workflows}
    packages = {module.rpartition(".")[0] for module in own}
    siblings = [
        name for name in sys.modules if name.rpartition(".")[0] in packages and name not in own
    ]
    return ["shared", *sorted(siblings)]
