"""The register's use cases: the API, the Kafka handlers, the Temporal activities and
the GIAS import call these, and nothing else writes."""

from services.provider_registry.commands.gias import (
    close_establishment,
    import_inspection,
    import_new_provider,
    import_update,
)
from services.provider_registry.commands.people import (
    change_person,
    claimable,
    code_digest,
    ensure_may_register,
    invitation_code,
    join,
    new_membership,
    verify_claim,
    verify_new,
)
from services.provider_registry.commands.providers import (
    SWEEPER,
    announce_registered,
    change_status,
    decide_recommendation,
    receive_recommendation,
    record_inspection,
    record_status_change,
    register_provider,
    sweep_document_expiry,
    update_provider,
    verify_document,
)

__all__ = [
    "SWEEPER",
    "announce_registered",
    "change_person",
    "change_status",
    "claimable",
    "close_establishment",
    "code_digest",
    "decide_recommendation",
    "ensure_may_register",
    "import_inspection",
    "import_new_provider",
    "import_update",
    "invitation_code",
    "join",
    "new_membership",
    "receive_recommendation",
    "record_inspection",
    "record_status_change",
    "register_provider",
    "sweep_document_expiry",
    "update_provider",
    "verify_claim",
    "verify_document",
    "verify_new",
]
