"""Procurement's workflow type names, ids, activity names and their inputs/outputs.

One place for what the workflows, their activities and the code that starts and
signals them agree on. The names and id formats are those of recorded histories and
running workflows: never change them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

# ------------------------------------------------------------- workflow type names

APPLICATION_WORKFLOW = "procurement.application_evaluation"
DECLARATION_WORKFLOW = "procurement.self_declaration"
COMPETITION_WORKFLOW = "procurement.competition"
STANDSTILL_WORKFLOW = "procurement.standstill"
NOTICE_WORKFLOW = "procurement.notice_due"

# ------------------------------------------------------------------ activity names

DECLARATION_OVERDUE_ACTIVITY = "procurement.mark_self_declaration_overdue"
REMIND_ACTIVITY = "procurement.remind_evaluators"
OVERDUE_ACTIVITY = "procurement.mark_application_overdue"
CLOSE_ACTIVITY = "procurement.close_and_evaluate"
END_STANDSTILL_ACTIVITY = "procurement.end_standstill"
NOTICE_OVERDUE_ACTIVITY = "procurement.mark_notice_overdue"

# ---------------------------------------------------------------------- signals

EXTEND_SIGNAL = "extend"
DECIDE_SIGNAL = "decide"
AWARD_DECIDED_SIGNAL = "award_decided"
ANSWER_SIGNAL = "answer"

# ------------------------------------------------------------------ workflow ids


def application_workflow_id(application_id: str) -> str:
    return f"application-{application_id}"


def competition_workflow_id(competition_id: str) -> str:
    return f"competition-{competition_id}"


def declaration_workflow_id(request_id: str) -> str:
    return f"self-declaration-{request_id}"


def standstill_workflow_id(competition_id: str) -> str:
    return f"standstill-{competition_id}"


def notice_workflow_id(notice_id: str) -> str:
    return f"notice-{notice_id}"


# ------------------------------------------------------- inputs and outputs


class ApplicationClock(BaseModel):
    """What an application's workflow waits for: the reminder and the deadline."""

    application_id: str
    reminder_at: datetime
    due_at: datetime


class ClockCheck(BaseModel):
    application_id: str
    now: datetime


class ClockState(BaseModel):
    """The application as stored: ``done`` says the step asked for has happened."""

    decided: bool
    done: bool
    clock: ApplicationClock


class CompetitionClock(BaseModel):
    competition_id: str
    deadline_at: datetime


class CompetitionCheck(BaseModel):
    competition_id: str
    now: datetime


class AwardSignal(BaseModel):
    """What the commissioner decided after evaluation (signalled to the call-off)."""

    outcome: Literal["awarded", "escalated", "reopened"]
    deadline_at: datetime | None = None


class CompetitionState(BaseModel):
    status: str
    round: int
    deadline_at: datetime


class DeclarationClock(BaseModel):
    """What a renewed self-declaration's workflow waits for: its due instant."""

    request_id: str
    due_at: datetime


class DeclarationCheck(BaseModel):
    request_id: str
    now: datetime


class StandstillClock(BaseModel):
    competition_id: str
    ends_at: datetime


class NoticeClock(BaseModel):
    notice_id: str
    due_at: datetime


class ClockTick(BaseModel):
    """Which record to check, at the workflow's now."""

    subject: str
    now: datetime
