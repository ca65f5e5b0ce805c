"""A workflow and activity that carry a child's reference, for the payload encryption
tests (kept apart from the test module: Temporal's sandbox re-imports this file)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow


class ChildCase(BaseModel):
    child_ref: str
    primary_need: str


class Offer(BaseModel):
    child_ref: str
    school: str


@activity.defn
async def find_school(case: ChildCase) -> Offer:
    return Offer(child_ref=case.child_ref, school=f"school for {case.primary_need}")


@workflow.defn
class PlacementSearch:
    @workflow.run
    async def run(self, case: ChildCase) -> Offer:
        return await workflow.execute_activity(
            find_school, case, start_to_close_timeout=timedelta(seconds=30)
        )
