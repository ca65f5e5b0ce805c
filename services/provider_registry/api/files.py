"""HTTP routes for compliance document files: a provider uploads the file of a document
it proposes, an officer downloads it to verify it (issue 15).

The file's bytes are kept in the register's own database (`document_file`), with their
SHA-256, the type told by their first bytes, size, a plain filename and who uploaded
them. The body is read as a stream with a cap (DPS_DOCUMENT_MAX_BYTES): a larger file is
a 413 before it is all read, a type not allowed (DPS_DOCUMENT_TYPES) a 415, whatever
the name or the declared type say.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from services.provider_registry import commands, domain, store
from services.provider_registry.models import DocumentFileRow
from services.provider_registry.policy import ALLOWED
from shared.audit_read import READS, ReadAudit
from shared.contracts.common import Role
from shared.contracts.providers_v1 import DocumentKind
from shared.edge import MAX_BODY_EXTRA
from shared.errors import NotFound
from shared.http import ErrorBody
from shared.runtime import ServiceRuntime, runtime_of
from shared.settings import DOCUMENT_CEILING_BYTES
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["document files"])

FIELD = "file"
# Room for the multipart boundaries and part headers around the file itself.
FORM_OVERHEAD = 64 * 1024
_UPLOAD_BODY = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FIELD],
                "properties": {FIELD: {"type": "string", "format": "binary"}},
            }
        }
    },
    "required": True,
}
_FILE_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in domain.MEDIA_TYPES.values()
}


class DocumentFileOut(BaseModel):
    """What the register holds about an uploaded file (not its bytes)."""

    file_id: str
    provider_id: str
    kind: DocumentKind
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class Refused(Exception):
    """The upload breaks a rule: answered with `status_code` and a `{field, rule}` body."""

    def __init__(self, status_code: int, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = [{"field": field, "rule": rule, "message": message}]


def _too_large(limit: int) -> Refused:
    return Refused(413, FIELD, "too_large", f"the file must be {limit} bytes or smaller")


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The body's chunks, refused as soon as they pass `limit` (nothing more is read)."""
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise _too_large(limit - FORM_OVERHEAD)
        yield chunk


async def _read_file(request: Request, limit: int) -> tuple[bytes, str | None]:
    """The bytes and given name of the form's one file, at most `limit` bytes."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Refused(415, "body", "multipart", "send the file as multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    stream = _capped(request.stream(), limit + FORM_OVERHEAD)
    parser = MultiPartParser(request.headers, stream, max_files=1, max_fields=5)  # type: ignore[arg-type]
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise Refused(422, "body", "multipart", str(exc)) from None
    try:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise Refused(422, FIELD, "required", "attach the document as the field 'file'")
        data = await upload.read(limit + 1)
        return data, upload.filename
    finally:
        await form.close()


def _type_of(data: bytes, allowed: tuple[str, ...]) -> str:
    """The allowed type `data` is, by its first bytes; Refused (415) if none."""
    names: list[str] = []
    if data.startswith(domain.ZIP_MAGIC):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()  # the directory only
        except zipfile.BadZipFile:
            names = []
    found = domain.sniff_type(data[:128], names)
    if found is None or found not in allowed:
        words = domain.allowed_types_text(allowed)
        raise Refused(415, FIELD, "type", f"the file must be a {words} file")
    return found


def _checked(data: bytes, limit: int, allowed: tuple[str, ...]) -> str:
    if not data:
        raise Refused(422, FIELD, "empty", "the file is empty")
    if len(data) > limit:
        raise _too_large(limit)
    return _type_of(data, allowed)


def _out(row: DocumentFileRow) -> DocumentFileOut:
    return DocumentFileOut(
        file_id=row.id,
        provider_id=row.provider_id,
        kind=DocumentKind(row.kind),
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
    )


@router.post(
    "/providers/{provider_id}/documents/{kind}/file",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": _UPLOAD_BODY,
        MAX_BODY_EXTRA: DOCUMENT_CEILING_BYTES + FORM_OVERHEAD,
    },
    responses={
        201: {"model": DocumentFileOut, "description": "The file is kept"},
        413: {"model": ErrorBody, "description": "The file is larger than allowed"},
        415: {"model": ErrorBody, "description": "Not multipart, or a file type not allowed"},
    },
    response_model=None,
)
async def upload_document_file(
    provider_id: str,
    kind: DocumentKind,
    request: Request,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> JSONResponse:
    """Upload the file of a compliance document as `multipart/form-data` field `file`:
    at most DPS_DOCUMENT_MAX_BYTES (10 MiB by default; 413 above), of a type allowed by
    DPS_DOCUMENT_TYPES told by its first bytes (415 otherwise), not empty (422). The
    newest file of a kind is the one an officer downloads and verifies."""
    settings = runtime.settings
    limit, allowed = settings.document_max_bytes, settings.allowed_document_types()
    try:
        data, given_name = await _read_file(request, limit)
        type_name = _checked(data, limit, allowed)
    except Refused as refused:
        return JSONResponse({"detail": refused.detail}, status_code=refused.status_code)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.keep_document_file(
            uow, actor, provider_id, kind, data, given_name, type_name
        )
    return JSONResponse(_out(row).model_dump(mode="json"), status_code=201)


async def _latest(runtime: ServiceRuntime, provider_id: str, kind: DocumentKind) -> DocumentFileRow:
    async with runtime.db.session() as session:
        row = await store.latest_document_file(session, provider_id, kind)
    if row is None:
        raise NotFound("document file", f"{provider_id}/{kind.value}")
    return row


def _own_or_officer(actor: Actor, provider_id: str) -> None:
    """Another provider's documents do not exist for a provider (404, not 403: it learns
    nothing about them)."""
    if actor.role == Role.PROVIDER.value and actor.provider_id != provider_id:
        raise NotFound("document file", provider_id)


@router.get(
    "/providers/{provider_id}/documents/{kind}/file",
    response_class=Response,
    responses={200: {"content": _FILE_CONTENT, "description": "The newest file of the kind"}},
)
async def download_document_file(
    provider_id: str,
    kind: DocumentKind,
    actor: Actor = ALLOWED,
    reads: ReadAudit = READS,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Response:
    """The newest file uploaded for the document, as an attachment of its stored type
    (never shown inline). Each download is recorded in the audit trail."""
    _own_or_officer(actor, provider_id)
    row = await _latest(runtime, provider_id, kind)
    await reads.record(actor, "document_file", [(row.id, None)], provider_id=provider_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{row.filename}"',
        "X-Content-Type-Options": "nosniff",
        "X-Document-SHA256": row.sha256,
    }
    return Response(row.content, media_type=row.media_type, headers=headers)


@router.get("/providers/{provider_id}/document-files")
async def list_document_files(
    provider_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[DocumentFileOut]:
    """The newest uploaded file of each kind (what it is, not its bytes)."""
    _own_or_officer(actor, provider_id)
    async with runtime.db.session() as session:
        await store.load_provider(session, provider_id)
        newest = await store.newest_document_files(session, provider_id)
    return [_out(row) for row in newest]
