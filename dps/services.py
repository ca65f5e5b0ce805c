"""Where each service's definition lives, so the CLI can load one by name."""

from __future__ import annotations

import importlib

from shared.runtime import ServiceDefinition
from shared.settings import SERVICES


def definition_of(name: str) -> ServiceDefinition:
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; choose one of {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{name}.app")
    definition: ServiceDefinition = module.definition
    return definition
