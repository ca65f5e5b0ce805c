"""HTTP routes of placements."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["placements"])
