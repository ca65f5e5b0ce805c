"""HTTP routes of the provider register, a router per resource. Routes translate HTTP to
commands (``commands``) and results to responses; no rule is computed here."""

from services.provider_registry.api import files, people, providers, recommendations, search
from services.provider_registry.api.bodies import ProviderIn, ProviderPatch

# In this order: the published OpenAPI document lists the paths as they are registered.
routers = [providers.router, search.router, recommendations.router, people.router, files.router]

__all__ = ["ProviderIn", "ProviderPatch", "routers"]
