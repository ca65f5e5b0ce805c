"""Compliance document files: a provider uploads, officers (and it) download (issue 15)."""

from __future__ import annotations

import io
import zipfile

import httpx
from sqlmodel import select

from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from shared.runtime import ServiceRuntime
from tests.harness import client_for
from tests.service.provider_registry.conftest import provider_token, register

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text"
        )  # stored, first, as ODF requires
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def _url(provider_id: str, kind: str = "insurance") -> str:
    return f"/providers/{provider_id}/documents/{kind}/file"


async def _upload(
    client: httpx.AsyncClient,
    provider_id: str,
    content: bytes,
    name: str = "policy.pdf",
    declared: str = "application/pdf",
) -> httpx.Response:
    return await client.post(_url(provider_id), files={"file": (name, content, declared)})


async def test_a_provider_uploads_and_officers_download_with_safe_headers(
    registry: ServiceRuntime, commissioner, tokens
) -> None:
    provider_id = await register(commissioner, urn=420001)
    async with client_for(registry, provider_token(provider_id)) as provider:
        uploaded = await _upload(provider, provider_id, PDF, name="../../etc/Insurance 2027.pdf")
        assert uploaded.status_code == 201, uploaded.text
        kept = uploaded.json()
        assert kept["filename"] == "Insurance 2027.pdf"
        assert kept["media_type"] == "application/pdf" and kept["size"] == len(PDF)
        own = await provider.get(_url(provider_id))
        assert own.status_code == 200 and own.content == PDF
        listed = await provider.get(f"/providers/{provider_id}/document-files")
        assert [f["kind"] for f in listed.json()] == ["insurance"]
    async with client_for(registry, tokens[Role.MONITORING_OFFICER]) as officer:
        got = await officer.get(_url(provider_id))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="Insurance 2027.pdf"'
    assert got.headers["x-content-type-options"] == "nosniff"
    async with registry.db.session() as session:
        actions = (await session.exec(select(AuditEntry.action))).all()
    assert "provider.document_file_uploaded" in actions
    assert actions.count("document_file.read") == 2


async def test_docx_and_odt_are_told_by_their_contents(
    registry: ServiceRuntime, commissioner
) -> None:
    provider_id = await register(commissioner, urn=420002)
    async with client_for(registry, provider_token(provider_id)) as provider:
        docx = await _upload(provider, provider_id, _docx(), "policy.docx", "application/zip")
        odt = await _upload(provider, provider_id, _odt(), "policy", "text/plain")
        png = await _upload(provider, provider_id, PNG, "scan.pdf", "application/pdf")
    assert docx.json()["media_type"].endswith("wordprocessingml.document"), docx.text
    assert odt.json()["media_type"] == "application/vnd.oasis.opendocument.text", odt.text
    assert odt.json()["filename"] == "policy.odt"
    assert png.json()["media_type"] == "image/png"  # what it is, not what it claims


async def test_a_file_disguised_by_its_extension_or_declared_type_is_refused(
    registry: ServiceRuntime, commissioner
) -> None:
    provider_id = await register(commissioner, urn=420003)
    async with client_for(registry, provider_token(provider_id)) as provider:
        disguised = await _upload(provider, provider_id, EXE, "policy.pdf", "application/pdf")
        plain_zip = await _upload(provider, provider_id, _zip_of("a.txt"), "p.docx")
        missing = await provider.get(_url(provider_id))
    assert disguised.status_code == 415
    [error] = disguised.json()["detail"]
    assert (error["field"], error["rule"]) == ("file", "type")
    assert "PDF" in error["message"] and "JPEG" in error["message"]
    assert plain_zip.status_code == 415
    assert missing.status_code == 404  # nothing was kept


def _zip_of(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "hello")
    return buffer.getvalue()


async def test_too_large_empty_and_not_multipart_are_refused_clearly(
    registry: ServiceRuntime, commissioner
) -> None:
    provider_id = await register(commissioner, urn=420004)
    registry.settings.document_max_bytes = 2048
    async with client_for(registry, provider_token(provider_id)) as provider:
        large = await _upload(provider, provider_id, PDF + b"0" * 4096)
        huge = await _upload(provider, provider_id, PDF + b"0" * 200_000)
        empty = await _upload(provider, provider_id, b"")
        json_body = await provider.post(_url(provider_id), json={"file": "x"})
        no_file = await provider.post(_url(provider_id), files={"other": ("a.pdf", PDF)})
    assert large.status_code == 413
    assert [(e["field"], e["rule"]) for e in large.json()["detail"]] == [("file", "too_large")]
    assert "2048 bytes" in large.json()["detail"][0]["message"]
    assert huge.status_code == 413
    assert empty.status_code == 422 and empty.json()["detail"][0]["rule"] == "empty"
    assert json_body.status_code == 415
    assert no_file.status_code == 422 and no_file.json()["detail"][0]["rule"] == "required"


async def test_another_provider_can_neither_upload_nor_see_a_providers_files(
    registry: ServiceRuntime, commissioner
) -> None:
    own = await register(commissioner, urn=420005)
    other = await register(commissioner, urn=420006)
    async with client_for(registry, provider_token(own)) as provider:
        assert (await _upload(provider, own, PDF)).status_code == 201
    async with client_for(registry, provider_token(other)) as intruder:
        upload = await _upload(intruder, own, PDF)
        download = await intruder.get(_url(own))
        listing = await intruder.get(f"/providers/{own}/document-files")
    assert upload.status_code == 403
    assert download.status_code == 404 and listing.status_code == 404
    async with client_for(registry, provider_token(own)) as provider:
        unknown = await _upload(provider, own, PDF)
    assert unknown.status_code == 201
