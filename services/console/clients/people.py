"""The provider register's people API (services/provider_registry/api_people.py):
registrations, the council's verification, memberships and invitations."""

from __future__ import annotations

from typing import Any

from services.console.clients.api import Api, segment

SERVICE = "provider_registry"


async def register(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = await api.post(SERVICE, "/registrations", body)
    return made


async def mine(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/registrations/mine")
    return found


async def me(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, "/people/me")
    return found


async def registrations(api: Api, *, status: str | None, limit: int, offset: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if status:
        params["status"] = status
    found: dict[str, Any] = await api.get(SERVICE, "/registrations", params)
    return found


async def registration(api: Api, registration_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/registrations/{segment(registration_id)}")
    return found


async def decide(api: Api, registration_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/registrations/{segment(registration_id)}/decision", body
    )
    return done


async def people(api: Api, provider_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/providers/{segment(provider_id)}/people")
    return found


async def invite(api: Api, provider_id: str, body: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = await api.post(
        SERVICE, f"/providers/{segment(provider_id)}/invitations", body
    )
    return made


async def accept(api: Api, code: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(SERVICE, f"/invitations/{segment(code)}/acceptance", {})
    return done


async def remove(api: Api, provider_id: str, subject: str) -> dict[str, Any]:
    """Remove a person (the administrator), or leave (the person's own subject)."""
    done: dict[str, Any] = await api.post(
        SERVICE, f"/providers/{segment(provider_id)}/people/{segment(subject)}/removal", {}
    )
    return done


async def set_role(api: Api, provider_id: str, subject: str, role: str) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/providers/{segment(provider_id)}/people/{segment(subject)}/role",
        {"role": role},
    )
    return done
