"""`POST /ehc-events`: a council's case system sends `ehc.plans.v1` events over HTTP.

For case systems that cannot produce to Kafka: the same CloudEvents, checked the same way,
written to the outbox on `ehc.plans.v1` (keyed by the child reference) and applied by
the same consumer, in order per child (shared.ingest). docs/integration.md walks through it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.placements.policy import ALLOWED
from shared import ingest
from shared.contracts import ehc_plans_v1
from shared.edge import MAX_BODY_EXTRA
from shared.http import ErrorBody
from shared.outbox_signal import wake_relay
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, UnitOfWork

router = APIRouter(tags=["ehc events"])

_BODY = {
    "content": {
        ingest.SINGLE_CONTENT_TYPE: {"schema": {"type": "object"}},
        ingest.BATCH_CONTENT_TYPE: {
            "schema": {"type": "array", "maxItems": ingest.MAX_EVENTS, "items": {"type": "object"}}
        },
    },
    "required": True,
}


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > ingest.MAX_BODY_BYTES:
        raise ingest.too_large()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > ingest.MAX_BODY_BYTES:
            raise ingest.too_large()
    return bytes(body)


@router.post(
    "/ehc-events",
    openapi_extra={"requestBody": _BODY, MAX_BODY_EXTRA: ingest.MAX_BODY_BYTES},
    responses={
        200: {"model": ingest.IngestAnswer, "description": "Each event's fate"},
        415: {"model": ErrorBody, "description": "Not a CloudEvents content type"},
        422: {
            "model": ErrorBody | ingest.IngestAnswer,
            "description": "The body is unreadable (field and rule), or its one event "
            "was rejected (the event's fate, with reasons)",
        },
    },
)
async def post_ehc_events(
    request: Request,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> JSONResponse:
    """Take one CloudEvent (`application/cloudevents+json`) or a batch of up to 500
    (`application/cloudevents-batch+json`) for `ehc.plans.v1`; answer each event:
    accepted (durably queued), duplicate (its id was accepted before) or rejected with
    `{field, rule, message}` reasons. A batch answers 200; one event answers 200, or 422
    when it is rejected. An unreadable body answers 413, 415 or 422 and writes nothing."""
    try:
        documents, batch = ingest.read_body(
            request.headers.get("content-type"), await _read_limited(request)
        )
    except ingest.BodyRefused as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    async with runtime.db.transaction() as session:  # durable before the answer
        results = await ingest.ingest(session, ehc_plans_v1.TOPIC, documents)
        answer = ingest.summary(results)
        counts = {k: answer[k] for k in ("accepted", "duplicate", "rejected")}
        uow = UnitOfWork(session=session, source=runtime.source)
        uow.audit(actor, "ehc_events.received", "topic", ehc_plans_v1.TOPIC, **counts)
    if answer["accepted"]:
        wake_relay()
    rejected_one = not batch and answer["rejected"] == 1
    return JSONResponse(answer, status_code=422 if rejected_one else 200)
