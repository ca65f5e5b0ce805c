"""What every monitoring record shares: frozen records whose validation failures are
`DomainError`s, aware times, and free text that must not name a child.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from shared.errors import DomainError


def _require_aware(field: str, moment: datetime) -> None:
    # Alerts cross services and time zones; a naive time is ambiguous (GMT or BST?).
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(field, "must be timezone-aware")


class _Record(BaseModel):
    """Frozen, strict-shaped record whose validation failures are DomainErrors."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="wrap")
    @classmethod
    def _as_domain_error(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or cls.__name__
            raise DomainError(field, first["msg"].removeprefix("Value error, ")) from None


_Id = Annotated[str, Field(min_length=1, max_length=200)]


# ----------------------------------------------------------------------- free text

SUMMARY_MAX_LENGTH = 1000
FINDINGS_MAX_LENGTH = 4000
OUTCOME_MAX_LENGTH = 2000

# Children are known only by the council's pseudonymous reference. These patterns catch
# the obvious ways a name or date of birth gets typed into free text ("Name: ...",
# "Child's name = ...", "DOB: ..."). It is a backstop, not a guarantee: officers and
# providers are told to use the child reference.
_IDENTIFYING_TEXT = (
    re.compile(r"\b(?:sur|fore|first|last|given|full|child'?s|pupil'?s)?\s*name\s*[:=]", re.I),
    re.compile(r"\b(?:d\.?o\.?b\.?|date\s+of\s+birth)\s*[:=]", re.I),
)


def _check_free_text(value: str, max_length: int) -> str:
    """Refuse over-long text and text that looks like it names a child."""
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    for pattern in _IDENTIFYING_TEXT:
        if pattern.search(value):
            raise ValueError(
                "looks like it contains a child's name or date of birth; "
                "use the child reference instead"
            )
    return value
