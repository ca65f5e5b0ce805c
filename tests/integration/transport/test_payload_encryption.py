"""Workflow and activity payloads reach Temporal encrypted, decrypt after a key rotation,
replay, and are shown to authorised people only through the codec endpoint."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message as ProtoMessage
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Replayer

from shared import temporal
from shared.auth import issue_token
from shared.codec_server import codec_app
from shared.contracts.common import Role
from shared.payload_codec import ENCODING, KEY_ID, PayloadKeyError, new_key_item
from shared.settings import CommonSettings
from tests.integration.transport.workflows import ChildCase, Offer, PlacementSearch, find_school
from tests.service.test_tracing import spans  # noqa: F401  (the fixture: traces recorded)

pytestmark = pytest.mark.integration

CHILD_REF = "CHILD-REF-7731"
OLD, NEW = new_key_item("2026-q3"), new_key_item("2026-q4")
SECRET = "codec-test-secret-0123456789abcdefghijkl"


def settings(keys: str, tmp_path: Path) -> CommonSettings:
    return CommonSettings(data_dir=tmp_path, temporal_payload_keys=keys, jwt_secret=SECRET)


async def run_search(client: Client) -> WorkflowHandle[PlacementSearch, Offer]:
    queue = f"codec-{uuid.uuid4().hex[:8]}"
    worker = temporal.make_worker(
        client, queue, workflows=[PlacementSearch], activities=[find_school]
    )
    async with worker:
        handle = await client.start_workflow(
            PlacementSearch.run,
            ChildCase(child_ref=CHILD_REF, primary_need="SEMH"),
            id=f"search-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        assert await handle.result() == Offer(child_ref=CHILD_REF, school="school for SEMH")
    return handle


def stored_payloads(history: object) -> list[Payload]:
    """Every payload Temporal keeps for the run: inputs, activity results, the result."""
    found: list[Payload] = []

    def walk(value: object) -> None:
        if isinstance(value, Payload):
            found.append(value)
        elif isinstance(value, ProtoMessage):
            for _field, inner in value.ListFields():
                walk(inner)
        elif isinstance(value, Mapping):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
            for inner in value:
                walk(inner)

    for event in history.events:  # type: ignore[attr-defined]
        walk(event)
    return found


@pytest.mark.usefixtures("spans")
async def test_history_holds_only_ciphertext_and_old_keys_still_decrypt(
    temporal_address: str, tmp_path: Path
) -> None:
    before = settings(OLD, tmp_path)
    client = await temporal.connect(temporal_address, settings=before)
    handle = await run_search(client)

    plain = await Client.connect(temporal_address)  # what the server and its UI hold
    history = await plain.get_workflow_handle(handle.id).fetch_history()
    payloads = [p for p in stored_payloads(history) if p.data]
    assert len(payloads) >= 4  # workflow input, activity input and result, workflow result
    # With tracing on, the trace context travels in headers: encrypted like the rest.
    started = history.events[0].workflow_execution_started_event_attributes
    assert "_tracer-data" in started.header.fields
    for payload in payloads:
        assert payload.metadata["encoding"] == ENCODING
        assert payload.metadata[KEY_ID] == b"2026-q3"
        assert CHILD_REF.encode() not in payload.data
        with pytest.raises(ValueError):
            json.loads(payload.data)

    # Rotated: the new key encrypts, the old one still decrypts the earlier run.
    rotated = settings(f"{NEW},{OLD}", tmp_path)
    after = await temporal.connect(temporal_address, settings=rotated)
    assert await after.get_workflow_handle(handle.id, result_type=Offer).result() == Offer(
        child_ref=CHILD_REF, school="school for SEMH"
    )
    newer = await run_search(after)
    newer_history = await plain.get_workflow_handle(newer.id).fetch_history()
    assert {p.metadata[KEY_ID] for p in stored_payloads(newer_history) if p.data} == {b"2026-q4"}

    # The encrypted history replays with the codec (workflow code sees plaintext).
    replayer = Replayer(
        workflows=[PlacementSearch], data_converter=temporal.data_converter(rotated)
    )
    await replayer.replay_workflow(history)

    # Without the old key the earlier run cannot be read.
    only_new = await temporal.connect(temporal_address, settings=settings(NEW, tmp_path))
    with pytest.raises(PayloadKeyError):
        await only_new.get_workflow_handle(handle.id, result_type=Offer).result()

    await codec_endpoint_shows_payloads_to_authorised_roles(rotated, payloads[0])


async def codec_endpoint_shows_payloads_to_authorised_roles(
    keys: CommonSettings, stored: Payload
) -> None:
    body = MessageToDict(Payloads(payloads=[stored]))
    transport = httpx.ASGITransport(app=codec_app(keys))
    ui = "http://127.0.0.1:8233"
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:

        def auth(role: Role, provider_id: str | None = None) -> dict[str, str]:
            token = issue_token(SECRET, role, subject="someone", provider_id=provider_id)
            return {"Authorization": f"Bearer {token}", "X-Namespace": "default", "Origin": ui}

        decoded = await http.post("/codec/decode", json=body, headers=auth(Role.COMMISSIONER))
        assert decoded.status_code == 200, decoded.text
        assert decoded.headers["access-control-allow-origin"] == ui
        (payload,) = decoded.json()["payloads"]
        assert CHILD_REF in base64.b64decode(payload["data"]).decode()

        refused = await http.post(
            "/codec/decode", json=body, headers=auth(Role.PROVIDER, provider_id="p1")
        )
        assert refused.status_code == 403
        assert (await http.post("/codec/decode", json=body)).status_code == 401
        preflight = await http.options(
            "/codec/decode",
            headers={
                "Origin": ui,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ui
        bad = await http.post(
            "/codec/decode", json={"payloads": "nope"}, headers=auth(Role.COMMISSIONER)
        )
        assert bad.status_code == 422
        forged = MessageToDict(Payloads(payloads=[stored]))
        forged["payloads"][0]["data"] = base64.b64encode(b"\0" * 40).decode()
        refused_forgery = await http.post(
            "/codec/decode", json=forged, headers=auth(Role.COMMISSIONER)
        )
        assert refused_forgery.status_code == 422
        assert "fails authentication" in refused_forgery.json()["detail"]
        forged["payloads"][0]["data"] = "AAAA"
        too_short = await http.post("/codec/decode", json=forged, headers=auth(Role.COMMISSIONER))
        assert too_short.status_code == 422

        encoded = await http.post(
            "/codec/encode", json=decoded.json(), headers=auth(Role.COMMISSIONER)
        )
        assert encoded.status_code == 200
        (sealed,) = encoded.json()["payloads"]
        assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"2026-q4"
