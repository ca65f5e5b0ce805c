"""The register's workflow names, ids, activity names and their inputs/outputs, in one place.

Names and ids are recorded in Temporal histories and schedules: never change them.
"""

from __future__ import annotations

from pydantic import BaseModel

SWEEP_WORKFLOW = "provider_registry.document_expiry_sweep"
SWEEP_SCHEDULE_ID = "provider_registry.document-expiry-sweep"
SWEEP_RUN_ID = SWEEP_SCHEDULE_ID + ".run"  # the id of each run the schedule starts
SWEEP_ACTIVITY = "provider_registry.sweep_document_expiry"

# 06:00 UTC, before the council's working day, so morning alerts are current.
SWEEP_CRON = "0 6 * * *"


class SweepResult(BaseModel):
    providers_checked: int
    notices_sent: int
