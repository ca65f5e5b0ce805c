"""HTTP routes of procurement, a router per resource.

Every change goes through one unit of work (state, its procurement.v1 events and audit
commit together); workflows are started or signalled only after the commit. A broken
rule is a 422 naming the field and the rule, a clash with the current state a 409.
"""

from fastapi import APIRouter

from services.procurement.api import (
    application_extras,
    applications,
    awards,
    clarifications,
    competitions,
    direct_awards,
    memberships,
    notices,
    ocds,
    portal,
    scheme_list,
    schemes,
    worklist,
)

# In the order the routes were registered before the split (the app serves them so).
ROUTERS: list[APIRouter] = [
    schemes.router,
    applications.router,
    memberships.router,
    competitions.router,
    awards.router,
    application_extras.router,
    clarifications.router,
    notices.router,
    worklist.router,
    portal.router,
    scheme_list.router,
    direct_awards.router,
    ocds.router,
]
