"""HTTP routes of placements, a router per resource.

Commissioners and admins write; a provider reads its own placements and requests
uplifts on them (token claim ``provider_id``); monitoring officers read.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.placements.api import blocks, imports, needs, placements, spend
from services.placements.api._views import NOT_FOR_MONITORING
from services.placements.api.imports import PlacementImportIn, _imported_placement

__all__ = ["NOT_FOR_MONITORING", "PlacementImportIn", "_imported_placement", "router"]

router = APIRouter()
for _resource in (needs, placements, imports, blocks, spend):  # the order routes match in
    router.include_router(_resource.router)
