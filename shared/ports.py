"""The four services and their default HTTP ports.

Apart from shared.settings (pydantic-settings) so that the `dps` commands that only
name services (`dps token`, `dps status`) import none of it.
"""

from __future__ import annotations

SERVICE_PORTS: dict[str, int] = {
    "provider_registry": 8001,
    "procurement": 8002,
    "placements": 8003,
    "monitoring": 8004,
}
SERVICES: tuple[str, ...] = tuple(SERVICE_PORTS)
