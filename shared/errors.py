"""Errors every service's rules raise, so every API answers alike:
422 naming field and rule, 404 for what does not exist, 409 for a clash with state."""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """A broken rule on one field, e.g. ``DomainError("urn", "must_be_6_digits", "...")``.

    ``rule`` is a stable code a client may branch on; ``message`` says it in words (it
    defaults to the rule). Not a ValueError, so pydantic never swallows one raised inside
    a validator into its own ValidationError.
    """

    def __init__(self, field: str, rule: str, message: str | None = None) -> None:
        self.field = field
        self.rule = str(rule)
        self.message = message or self.rule
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.message == self.rule:
            return f"{self.field}: {self.rule}"
        return f"{self.field}: {self.message} [{self.rule}]"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainError):
            return NotImplemented
        return (self.field, self.rule) == (other.field, other.rule)

    def __hash__(self) -> int:
        return hash((self.field, self.rule))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(field={self.field!r}, rule={self.rule!r})"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form for a 422/409 body or a dead-letter record: field, rule and,
        when it says more than the rule, message."""
        body = {"field": self.field, "rule": self.rule}
        if self.message != self.rule:
            body["message"] = self.message
        return body


class RulesBroken(ValueError):
    """Every rule a request breaks, not only the first (422 listing them all)."""

    def __init__(self, errors: Iterable[DomainError]) -> None:
        self.errors: tuple[DomainError, ...] = tuple(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


class NotFound(LookupError):
    """The thing asked for does not exist (404)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} not found")
        self.entity = entity
        self.entity_id = entity_id


class Conflict(DomainError):
    """The request clashes with the current state (409), e.g. a duplicate URN."""
