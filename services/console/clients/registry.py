"""The provider register's API (services/provider_registry/api.py)."""

from __future__ import annotations

from typing import Any, BinaryIO

import httpx

from services.console.clients.api import Api, segment

SERVICE = "provider_registry"


async def providers(
    api: Api, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if status:
        params["status"] = status
    page: dict[str, Any] = await api.get(SERVICE, "/providers", params)
    return page


async def provider(api: Api, provider_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/providers/{segment(provider_id)}")
    return found


async def inspections(api: Api, provider_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/inspections"
    )
    return found


def _file_path(provider_id: str, kind: str) -> str:
    return f"/providers/{segment(provider_id)}/documents/{segment(kind)}/file"


async def document_files(api: Api, provider_id: str) -> list[dict[str, Any]]:
    """The newest uploaded file of each document kind (what it is, not its bytes)."""
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/document-files"
    )
    return found


async def upload_document_file(
    api: Api, provider_id: str, kind: str, filename: str, content: BinaryIO, media_type: str
) -> dict[str, Any]:
    """Send a document's file on to the register, read from `content` as it goes."""
    files = {"file": (filename, content, media_type or "application/octet-stream")}
    done: dict[str, Any] = await api.upload(SERVICE, _file_path(provider_id, kind), files)
    return done


async def document_file(api: Api, provider_id: str, kind: str) -> httpx.Response:
    return await api.download(SERVICE, _file_path(provider_id, kind))


async def verify_document(
    api: Api, provider_id: str, kind: str, body: dict[str, Any]
) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/providers/{segment(provider_id)}/documents/{segment(kind)}/verification", body
    )
    return done


async def recommendations(
    api: Api, *, provider_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Suspension recommendations (the commissioner's to decide), oldest first."""
    params = {k: v for k, v in (("provider_id", provider_id), ("status", status)) if v}
    found: list[dict[str, Any]] = await api.get(SERVICE, "/recommendations", params)
    return found


async def decide_recommendation(
    api: Api, recommendation_id: str, decision: str, reason: str
) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/recommendations/{segment(recommendation_id)}/decision",
        {"decision": decision, "reason": reason},
    )
    return done


async def status_changes(api: Api, provider_id: str) -> list[dict[str, Any]]:
    """The provider's status history with the council's reasons (a provider: its own)."""
    found: list[dict[str, Any]] = await api.get(
        SERVICE, f"/providers/{segment(provider_id)}/status-changes"
    )
    return found


async def change_status(api: Api, provider_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /providers/{id}/status: the commissioner moves a provider, saying why."""
    done: dict[str, Any] = await api.post(
        SERVICE, f"/providers/{segment(provider_id)}/status", body
    )
    return done
