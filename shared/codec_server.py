"""The remote payload codec the Temporal UI and CLI call to show encrypted payloads.

Temporal's remote codec protocol: POST {endpoint}/encode and {endpoint}/decode with a
JSON `Payloads` message ({"payloads": [{"metadata": {...}, "data": "<base64>"}]}), the
namespace in `X-Namespace`; the answer is the same shape. The UI calls it from the
browser, so the Temporal UI's origin is allowed by CORS, and it passes the signed-in
person's bearer token: only DPS_CODEC_ROLES may decode (they would see children's data).
Served by `dps codec-server`.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from fastapi import Body, Depends, FastAPI, HTTPException, status
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.common.v1 import Payloads

from shared.auth import require
from shared.contracts.common import Role
from shared.http import create_app
from shared.payload_codec import EncryptionCodec, local_keys, parse_keys
from shared.settings import CommonSettings

PREFIX = "/codec"
JsonObject = dict[str, Any]


def codec_roles(settings: CommonSettings) -> tuple[Role, ...]:
    names = [n.strip() for n in settings.codec_roles.split(",") if n.strip()]
    unknown = [n for n in names if n not in {r.value for r in Role}]
    if unknown or not names:
        raise ValueError(
            f"DPS_CODEC_ROLES: unknown role(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(r.value for r in Role)}"
        )
    return tuple(Role(n) for n in names)


def _payloads(body: JsonObject) -> Payloads:
    try:
        return ParseDict(body, Payloads())
    except ParseError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"body is not a Temporal Payloads message: {exc}",
        ) from exc


def _answer(payloads: list[Any]) -> JsonObject:
    return MessageToDict(Payloads(payloads=payloads))


def codec_app(settings: CommonSettings) -> FastAPI:
    text = settings.temporal_payload_keys.get_secret_value() or local_keys(settings.data_dir)
    codec = EncryptionCodec(parse_keys(text))
    app = create_app(
        "codec",
        title="send-dps payload codec",
        jwt_secret=settings.signing_secret(),
        checks={},
    )
    allowed = Depends(require(*codec_roles(settings)))
    origins = [o.strip() for o in settings.codec_cors_origins.split(",") if o.strip()]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
    )

    @app.post(f"{PREFIX}/encode", dependencies=[allowed])
    async def encode(body: JsonObject = Body(...)) -> JsonObject:
        return _answer(await codec.encode(list(_payloads(body).payloads)))

    @app.post(f"{PREFIX}/decode", dependencies=[allowed])
    async def decode(body: JsonObject = Body(...)) -> JsonObject:
        try:
            return _answer(await codec.decode(list(_payloads(body).payloads)))
        except (ValueError, InvalidTag) as exc:  # unknown key, bad nonce, forged data
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"cannot decrypt: {str(exc) or 'the payload fails authentication'}",
            ) from exc

    return app
