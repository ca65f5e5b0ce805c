"""Who a command acts as when no person does: the register, the needs feed, the clock."""

from __future__ import annotations

from shared.unit_of_work import Actor

REGISTER = Actor(id="dps/procurement/providers.v1", role="service")
NEEDS = Actor(id="dps/procurement/placements.v1", role="service")
CLOCK = Actor(id="dps/procurement/workflow", role="service")
