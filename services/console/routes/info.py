"""Pages about the service itself: the accessibility statement (Public Sector Bodies
(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018, reg 8)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.console.render import page

router = APIRouter()


@router.get("/accessibility")
async def accessibility(request: Request) -> Response:
    return page(request, "accessibility.html")
