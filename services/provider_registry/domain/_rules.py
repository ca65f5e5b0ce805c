"""Errors and small checks shared by the registry's domain modules."""

from __future__ import annotations

import re
from datetime import datetime

from shared.errors import Conflict, DomainError, RulesBroken

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- errors ---------------------------------------------------------------------------
# DomainError (422, names field and rule) comes from shared.errors so that every
# service's API answers alike; it is re-exported here for callers of this module.


class ProviderInvalid(RulesBroken):
    """Every rule a draft (or inspection, or search) breaks, not only the first (422)."""


class IllegalTransition(Conflict):
    """A state machine was asked for a move it does not allow (409).

    ``field`` names the state (e.g. ``"status"``); ``current``/``requested`` the move.
    """

    def __init__(self, field: str, current: str, requested: str) -> None:
        self.current = str(current)
        self.requested = str(requested)
        super().__init__(field, f"cannot go from {self.current!r} to {self.requested!r}")


def check_text(name: str, value: str, max_length: int = 200) -> list[DomainError]:
    if not isinstance(value, str) or not value.strip():
        return [DomainError(name, "must not be blank")]
    if len(value.strip()) > max_length:
        return [DomainError(name, f"must be at most {max_length} characters")]
    return []


def check_actor(by: str, at: datetime, reason: str) -> None:
    if not by.strip():
        raise DomainError("changed_by", "must name who made the change")
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError("changed_at", "must be timezone-aware")
    if not reason.strip():
        raise DomainError("reason", "must say why")
