"""Views and read helpers shared by the placements routers."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.placements import domain, events
from services.placements.models import (
    NeedRow,
    PlacementRow,
)
from shared import clock
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor

# --- views --------------------------------------------------------------------------------


def _today() -> date:
    return clock.now().date()  # the wall clock, or the training clock


# What monitoring does not need about a child (UK GDPR Art. 5(1)(c), data minimisation):
# age and health detail beyond the primary need are for commissioning the placement.
NOT_FOR_MONITORING = frozenset({"date_of_birth", "secondary_needs"})


def _need_view(row: NeedRow, actor: Actor) -> dict[str, Any]:
    hidden = {"source_event_id"}
    if actor.role == Role.MONITORING_OFFICER.value:
        hidden |= NOT_FOR_MONITORING
    return row.model_dump(exclude=hidden)


def _placement_summary(
    row: PlacementRow, names: dict[str, str], actor: Actor | None = None
) -> dict[str, Any]:
    hidden = {"workflow_started"}
    if actor is not None and actor.role == Role.PROVIDER.value:
        hidden.add("basis_reference")  # the council's case reference, not the provider's
    view = row.model_dump(exclude=hidden)
    view["provider_name"] = names.get(row.provider_id)
    rule = domain.basis_rule(domain.PlacementBasis(row.basis))
    view["basis_label"] = rule.label
    view["basis_lawful"] = rule.lawful
    view["basis_source"] = rule.source
    return view


def _fee_terms_view(placement: domain.Placement) -> dict[str, Any]:
    return events.fee_terms(placement, _today()).model_dump(mode="json")


def _key(runtime: ServiceRuntime) -> bytes:
    """The child pseudonym key: the audit trail names a child by pseudonym."""
    return runtime.settings.pseudonym_key()
