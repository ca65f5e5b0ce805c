"""Alert rules as versioned data, and evaluating them against evidence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from services.monitoring.domain._records import _Record, _require_aware
from services.monitoring.domain.conditions import (
    MAX_CONDITION_LENGTH,
    _cause_fields,
    parse_condition,
    render_cause,
)
from services.monitoring.domain.evidence import EVIDENCE_TYPES, Evidence, EvidenceKind
from shared.contracts.quality_v1 import AlertTarget, Severity
from shared.errors import DomainError


class AlertRule(_Record):
    """One version of a configurable rule: when `condition` holds on `watches` evidence,
    raise a `severity` alert about the `target`, once per rendered `cause_template`.

    Rules are data: a change (e.g. a threshold) is a new version via `revise_rule`;
    old versions stay for audit and alerts record the version that raised them.
    """

    rule_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    version: int = Field(default=1, ge=1)
    title: str = Field(min_length=1, max_length=200)
    watches: EvidenceKind
    condition: str = Field(min_length=1, max_length=MAX_CONDITION_LENGTH)
    severity: Severity
    target: AlertTarget
    cause_template: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    changed_by: str = Field(default="system", min_length=1)
    changed_at: datetime | None = None
    change_reason: str | None = None
    # The law, guidance or notice the rule carries out (None: a local practice rule).
    source: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _fits_what_it_watches(self) -> Self:
        evidence_type = EVIDENCE_TYPES[self.watches]
        if self.target not in evidence_type.TARGETS:
            raise DomainError("target", f"{self.watches} evidence has no {self.target} to alert")
        fact_types = evidence_type.fact_types()
        parse_condition(self.condition).check_types(fact_types)
        for field in _cause_fields(self.cause_template):
            if field not in fact_types:
                raise DomainError("cause_template", f"unknown field '{field}'")
        if self.changed_at is not None:
            _require_aware("changed_at", self.changed_at)
        return self

    def matches(self, evidence: Evidence) -> bool:
        """Whether this rule, if enabled, fires on `evidence`."""
        return (
            self.enabled
            and evidence.kind == self.watches
            and parse_condition(self.condition).evaluate(evidence.facts())
        )


def revise_rule(
    rule: AlertRule,
    *,
    changed_by: str,
    changed_at: datetime,
    reason: str,
    title: str | None = None,
    condition: str | None = None,
    severity: Severity | None = None,
    enabled: bool | None = None,
) -> AlertRule:
    """Next version of a rule with the given changes (id, watches, target, cause fixed).

    What a rule watches, what it targets and its cause template define which alerts
    are "the same cause"; changing those is a new rule, not a new version.
    """
    _require_aware("changed_at", changed_at)
    changes = {
        key: value
        for key, value in {
            "title": title,
            "condition": condition,
            "severity": severity,
            "enabled": enabled,
        }.items()
        if value is not None and value != getattr(rule, key)
    }
    if not changes:
        raise DomainError("rule", "a new version must change something")
    if not reason.strip():
        raise DomainError("change_reason", "must say why the rule changed")
    data = rule.model_dump() | changes
    data |= {
        "version": rule.version + 1,
        "changed_by": changed_by,
        "changed_at": changed_at,
        "change_reason": reason,
    }
    return AlertRule.model_validate(data)


def current_rules(versions: Iterable[AlertRule]) -> dict[str, AlertRule]:
    """Latest version of each rule, from the full audit history."""
    latest: dict[str, AlertRule] = {}
    for rule in versions:
        if rule.rule_id not in latest or rule.version > latest[rule.rule_id].version:
            latest[rule.rule_id] = rule
    return latest


class RuleMatch(_Record):
    """A rule fired on a piece of evidence: the input to `raise_alert`."""

    rule_id: str
    rule_version: int
    title: str
    severity: Severity
    target: AlertTarget
    target_id: str
    provider_id: str | None
    placement_id: str | None
    cause: str
    evidence_kind: EvidenceKind
    evidence_ref: str

    @property
    def dedupe_key(self) -> str:
        """rule id + target + cause: at most one unresolved alert per key."""
        return f"{self.rule_id}|{self.target}:{self.target_id}|{self.cause}"


def evaluate_rules(rules: Iterable[AlertRule], evidence: Evidence) -> list[RuleMatch]:
    """Every enabled rule watching this evidence whose condition holds.

    Pass current versions only (see `current_rules`). Evidence without the rule's
    target (a block competition has no placement) is skipped.
    """
    facts = evidence.facts()
    matches = []
    for rule in rules:
        if not rule.enabled or rule.watches != evidence.kind:
            continue
        target_id = evidence.target_id(rule.target)
        if target_id is None or not parse_condition(rule.condition).evaluate(facts):
            continue
        matches.append(
            RuleMatch(
                rule_id=rule.rule_id,
                rule_version=rule.version,
                title=rule.title,
                severity=rule.severity,
                target=rule.target,
                target_id=target_id,
                provider_id=evidence.provider_id,
                placement_id=evidence.target_id(AlertTarget.PLACEMENT),
                cause=render_cause(rule.cause_template, facts),
                evidence_kind=EvidenceKind(evidence.kind),
                evidence_ref=evidence.evidence_id,
            )
        )
    return matches
