"""HTTP routes of procurement."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["procurement"])
