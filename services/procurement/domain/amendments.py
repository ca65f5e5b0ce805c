"""Scheme amendments: what may change, and what may change once the scheme is open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, _today
from services.procurement.domain.schemes import (
    AWARD_CRITERIA_SOURCE,
    SchemeStatus,
    _validate_scheme,
    extend_scheme_term,
)

if TYPE_CHECKING:
    from services.procurement.domain.schemes import Scheme


# ----------------------------------------------------------------- scheme amendments


class WhileLive(StrEnum):
    """What an amendment of a field may do once the scheme has opened (open, suspended)."""

    ALLOWED = "allowed"  # changes nothing anyone relied on; recorded with a reason
    REFUSED = "refused"  # would alter who would have applied: a new call for competition
    EXTENSION_ONLY = "extension_only"  # only the next extension the notice allowed


@dataclass(frozen=True, slots=True)
class AmendmentRule:
    """Whether a scheme's field may change once the scheme is open, and why (the law)."""

    field: str
    while_live: WhileLive
    source: str


DRAFT_AMENDMENT_SOURCE = (
    "Nothing of a draft scheme is published or relied on: until it opens (its call for "
    "competition) anything may change, validated as when it was created"
)
CONDITIONS_SOURCE = (
    "PCR 2015 reg 34(2)(b) and (15)-(16): the DPS is open throughout its period to any "
    "provider meeting the selection criteria set out when it was established, so changing "
    "them would alter who would have applied (reg 18: equal treatment, transparency); "
    "light-touch: reg 76(4)(a), the conditions for participation as the call for "
    "competition published them. A different scheme needs a new call for competition"
)
CATEGORIES_SOURCE = (
    "PCR 2015 reg 34(4)-(5): the categories (here also the lots and their thresholds) are "
    "defined objectively in the call for competition with their selection criteria; "
    "light-touch: reg 76(4)(a). A different scheme needs a new call for competition"
)
TIME_LIMITS_SOURCE = (
    "PCR 2015 reg 34: the call-off time limits as published with the DPS; light-touch: "
    "reg 76(4)(b), the time limits the call for competition published"
)
TITLE_SOURCE = (
    "A title names the scheme; it changes neither the conditions for participation, the "
    "time limits nor the award procedure (reg 76(4)(a)-(c), reg 34(2)(b)), so it may be "
    "corrected while open, with the reason recorded"
)
TERM_SOURCE = (
    "PCR 2015 reg 34(27)(a): the period may be extended as the notice allowed (its "
    "optional extensions), the change notified on the form first used for the call for "
    "competition; any other change of the period needs a new call for competition"
)

# The fields an amendment may change, each with what it may do once the scheme is open.
# Not amendable at all: the reference and the regime (the scheme's identity and its law).
AMENDMENT_RULES: Mapping[str, AmendmentRule] = MappingProxyType(
    {
        rule.field: rule
        for rule in (
            AmendmentRule("title", WhileLive.ALLOWED, TITLE_SOURCE),
            AmendmentRule("categories", WhileLive.REFUSED, CATEGORIES_SOURCE),
            AmendmentRule("lots", WhileLive.REFUSED, CATEGORIES_SOURCE),
            AmendmentRule("selection_questions", WhileLive.REFUSED, CONDITIONS_SOURCE),
            AmendmentRule("pass_mark", WhileLive.REFUSED, CONDITIONS_SOURCE),
            AmendmentRule("required_documents", WhileLive.REFUSED, CONDITIONS_SOURCE),
            AmendmentRule("award_criteria", WhileLive.REFUSED, AWARD_CRITERIA_SOURCE),
            AmendmentRule("min_tender_days", WhileLive.REFUSED, TIME_LIMITS_SOURCE),
            AmendmentRule("term_start", WhileLive.REFUSED, TERM_SOURCE),
            AmendmentRule("term_end", WhileLive.EXTENSION_ONLY, TERM_SOURCE),
            AmendmentRule("max_extension_end", WhileLive.REFUSED, TERM_SOURCE),
            AmendmentRule("extension_ends", WhileLive.REFUSED, TERM_SOURCE),
        )
    }
)


@dataclass(frozen=True, slots=True)
class Amendment:
    """An amended scheme and what changed; ``extended``: the term end moved to the next
    extension the notice allowed (a period notice is owed, reg 34(27)(a))."""

    scheme: Scheme
    changed: tuple[str, ...]
    extended: bool = False


def _current(s: Scheme, name: str) -> object:
    # The term end a person sees and may move is the effective one (with extensions).
    return s.term_end_effective if name == "term_end" else getattr(s, name)


def changed_fields(s: Scheme, candidate: Scheme) -> tuple[str, ...]:
    """The amendable fields whose value the candidate changes, in the table's order."""
    return tuple(f for f in AMENDMENT_RULES if getattr(candidate, f) != _current(s, f))


def amend_scheme(s: Scheme, candidate: Scheme, *, by: str, reason: str, now: datetime) -> Amendment:
    """Amend a scheme: a draft in any field (validated as a new scheme); an open or
    suspended one only where AMENDMENT_RULES allow, with a reason; a closed one never."""
    changed = changed_fields(s, candidate)
    _require(bool(changed), "body", Rule.REQUIRED, "nothing to change")
    _require(
        s.status is not SchemeStatus.CLOSED,
        "status",
        Rule.INVALID_TRANSITION,
        "a closed scheme cannot be amended",
    )
    if s.status is SchemeStatus.DRAFT:
        _validate_scheme(candidate)
        return Amendment(candidate, changed)
    reason = _require_text(reason, "reason")
    for name in changed:
        rule = AMENDMENT_RULES[name]
        _require(
            rule.while_live is not WhileLive.REFUSED,
            name,
            Rule.AMENDMENT_REFUSED,
            f"cannot change {name} once the scheme has opened ({rule.source})",
        )
    amended = replace(s, title=_require_text(candidate.title, "title"))
    if "term_end" not in changed:
        return Amendment(amended, changed)
    used, options = s.extensions_used, s.extension_options
    _require(
        used < len(options) and candidate.term_end == options[used],
        "term_end",
        Rule.EXTENSION_NOT_AVAILABLE,
        "once open, the term may only move to the next extension the notice allowed "
        f"({options[used].isoformat() if used < len(options) else 'none left'}; {TERM_SOURCE})",
    )
    extended = extend_scheme_term(amended, _today(now), by=by, reason=reason, now=now)
    return Amendment(extended, changed, extended=True)
