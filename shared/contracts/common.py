"""Vocabulary shared by every topic: need types, attendance patterns, roles.

Codes follow the DfE SEN2 return so councils can exchange data without re-keying.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Role is read by `dps token`, which imports no pydantic
    from pydantic import BaseModel


class NeedType(StrEnum):
    """DfE SEN2 primary/secondary need codes."""

    ASD = "ASD"  # autistic spectrum disorder
    SEMH = "SEMH"  # social, emotional and mental health
    SLCN = "SLCN"  # speech, language and communication needs
    MLD = "MLD"  # moderate learning difficulty
    SLD = "SLD"  # severe learning difficulty
    PMLD = "PMLD"  # profound and multiple learning difficulty
    SPLD = "SpLD"  # specific learning difficulty
    HI = "HI"  # hearing impairment
    VI = "VI"  # visual impairment
    MSI = "MSI"  # multi-sensory impairment
    PD = "PD"  # physical disability
    OTH = "OTH"  # other difficulty/disability


class Attendance(StrEnum):
    """How a child attends: day, or residential for 38 or 52 weeks a year."""

    DAY = "day"
    RESIDENTIAL_38 = "residential_38"
    RESIDENTIAL_52 = "residential_52"


class Role(StrEnum):
    """Roles carried in a bearer token; every HTTP route checks one."""

    COMMISSIONER = "commissioner"
    MONITORING_OFFICER = "monitoring_officer"
    PROVIDER = "provider"
    COUNCIL_SYSTEM = "council_system"
    ADMIN = "admin"
    # Reads the audit trail (GET /audit on every service) and nothing else: the people
    # who check how children's data is used are not those who use it or run the platform.
    AUDITOR = "auditor"
    # A supplier's person signed in but not (yet) bound to a provider: may only register
    # its organisation, claim one on the register or accept an invitation (provider_registry
    # registration routes). Every other route refuses it; once the council verifies the
    # registration (or the person accepts an invitation) the person's tokens are provider
    # tokens bound to that provider (DPS_OIDC_PROVIDER_CLAIM).
    SUPPLIER = "supplier"


# --- personal data ------------------------------------------------------------------------
# A field that says something about a child (UK GDPR Art. 4(1); health needs are special
# category, Art. 9) is marked ``Field(json_schema_extra=PERSONAL)``. The mark shows in the
# published JSON Schema ("personal": true) and is what redaction (dead letters, kept
# outbox rows) goes by: see ``personal_fields`` and ``redact``.
PERSONAL: dict[str, Any] = {"personal": True}
REDACTED = "[redacted]"


def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the fields a contract model marks personal."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("personal")
    )


def redact(data: Any, names: frozenset[str], replacement: Any = REDACTED) -> Any:
    """A copy of JSON-like ``data`` with the value of every key in ``names`` (at any
    depth) replaced; absent or null values stay as they are."""
    if isinstance(data, Mapping):
        return {
            key: (
                replacement
                if key in names and value is not None
                else redact(value, names, replacement)
            )
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact(item, names, replacement) for item in data]
    return data
