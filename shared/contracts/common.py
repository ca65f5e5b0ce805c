"""Vocabulary shared by every topic: need types, attendance patterns, roles.

Codes follow the DfE SEN2 return so councils can exchange data without re-keying.
"""

from __future__ import annotations

from enum import StrEnum


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
