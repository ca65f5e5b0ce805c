"""The provider portal's calls: procurement's provider reads (portal_api.py) and the
provider's own writes (applications, self-declarations, bids and their withdrawal,
clarification questions), all with the provider's
token, so the service narrows every answer to that provider."""

from __future__ import annotations

from typing import Any

from services.console.clients import ApiRefused
from services.console.clients.api import Api, segment

SERVICE = "procurement"


async def invitations(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/invitations")
    return found


async def applications(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/applications")
    return found


async def declarations(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/self-declarations")
    return found


async def schemes(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/schemes")
    return found


async def scheme(api: Api, scheme_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/schemes/{segment(scheme_id)}")
    return found


async def apply(
    api: Api, scheme_id: str, categories: list[str], answers: dict[str, str]
) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/schemes/{segment(scheme_id)}/applications",
        {"requested_categories": categories, "answers": answers},
    )
    return done


async def declaration(api: Api, request_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/self-declarations/{segment(request_id)}")
    return found


async def declare(api: Api, request_id: str, declaration: dict[str, str]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/self-declarations/{segment(request_id)}/answer", {"declaration": declaration}
    )
    return done


async def competition(api: Api, competition_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(SERVICE, f"/competitions/{segment(competition_id)}")
    return found


async def bid(api: Api, competition_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        SERVICE, f"/competitions/{segment(competition_id)}/bids", body
    )
    return done


async def withdraw(api: Api, competition_id: str) -> dict[str, Any]:
    """Withdraw this provider's live bid before the deadline (a receipt comes back)."""
    done: dict[str, Any] = await api.post(
        SERVICE, f"/competitions/{segment(competition_id)}/bids/withdrawal"
    )
    return done


async def ask(api: Api, competition_id: str, question: str) -> dict[str, Any]:
    """Ask a clarification question; the answer goes to every invited provider."""
    done: dict[str, Any] = await api.post(
        SERVICE, f"/competitions/{segment(competition_id)}/clarifications", {"question": question}
    )
    return done


async def propose_documents(
    api: Api, provider_id: str, documents: list[dict[str, Any]]
) -> dict[str, Any]:
    """A provider's documents go in as proposals (the register keeps only kind, expiry and
    reference, no file); an officer verifies each and sets its expiry."""
    done: dict[str, Any] = await api.patch(
        "provider_registry", f"/providers/{segment(provider_id)}", {"documents": documents}
    )
    return done


async def placement(api: Api, placement_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("placements", f"/placements/{segment(placement_id)}")
    return found


async def request_uplift(api: Api, placement_id: str, body: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = await api.post(
        "placements", f"/placements/{segment(placement_id)}/uplifts", body
    )
    return done


async def drafts(api: Api) -> list[dict[str, Any]]:
    """This provider's unfinished applications (procurement keeps them; no clock runs)."""
    found: list[dict[str, Any]] = await api.get(SERVICE, "/portal/application-drafts")
    return found


async def draft(api: Api, scheme_id: str) -> dict[str, Any] | None:
    """This provider's draft to the scheme, or None when it has none."""
    try:
        found: dict[str, Any] = await api.get(
            SERVICE, f"/schemes/{segment(scheme_id)}/application-draft"
        )
    except ApiRefused as refused:
        if refused.status == 404:
            return None
        raise
    return found


async def save_draft(
    api: Api, scheme_id: str, categories: list[str], answers: dict[str, str]
) -> dict[str, Any]:
    saved: dict[str, Any] = await api.put(
        SERVICE,
        f"/schemes/{segment(scheme_id)}/application-draft",
        {"requested_categories": categories, "answers": answers},
    )
    return saved


async def answer_request(
    api: Api, application_id: str, request_id: str, answer: str
) -> dict[str, Any]:
    """Reply to the council's clarification request on this provider's application."""
    done: dict[str, Any] = await api.post(
        SERVICE,
        f"/applications/{segment(application_id)}/clarification-requests/"
        f"{segment(request_id)}/answer",
        {"answer": answer},
    )
    return done
