"""Inbound topic ``ehc.plans.v1``: EHC plan events published by council SEND case systems.

Only what commissioning needs is modelled. The envelope (CloudEvents attributes such as
``id``, ``time`` and ``subject``) is handled elsewhere; these models are the ``data``.

Unknown fields: councils may add fields to their feed at any time, and a ``.v1`` topic only
grows by optional fields, so rejecting unknown fields would dead-letter good events. Every
model therefore *ignores* unknown fields: they are dropped at parse time and never reach a
model, a table or an outgoing event. That is how names are never stored: no model has a
name field, and anything else a council sends is discarded. ``name_like_fields`` lets a
handler report (by path only, never by value) that a council is sending names it should not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from shared.contracts.common import PERSONAL, Attendance, NeedType

TOPIC = "ehc.plans.v1"
# Key and subject are the child reference: never logged (shared.contracts.subject_is_personal).
SUBJECT_IS_PERSONAL = True

# Children and young people can hold an EHC plan from early years up to age 25.
MIN_AGE_AT_START = 2
MAX_AGE_AT_START = 25

ChildRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9-]{3,40}$"),
    Field(
        description="Council-issued pseudonymous child reference: 3-40 characters A-Z, 0-9, '-'.",
        examples=["KCC-EHC-000123"],
        json_schema_extra=PERSONAL,
    ),
]

LaCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3}$"),
    Field(description="DfE three-digit local authority code.", examples=["886"]),
]


def _normalise_postcode_district(value: Any) -> Any:
    # Case and surrounding spaces carry no meaning in an outward code; normalise them
    # so "me14 " and "ME14" are the same district.
    return value.strip().upper() if isinstance(value, str) else value


_POSTCODE_DISTRICT = r"^[A-Z]{1,2}[0-9][A-Z0-9]?$"

PostcodeDistrict = Annotated[
    str,
    BeforeValidator(_normalise_postcode_district),
    StringConstraints(pattern=_POSTCODE_DISTRICT),
    Field(json_schema_extra=PERSONAL),
    # Stated in the published schema too (the normalising validator hides it from
    # pydantic's generator): a schema-valid event is never dead-lettered for it.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _POSTCODE_DISTRICT,
            "description": "Postcode district (outward code only, never a full postcode), "
            "e.g. ME14. Upper case.",
            "examples": ["ME14", "SW1A", "B1"],
            **PERSONAL,
        }
    ),
]

# National curriculum year as SEN2 writes it: N1, N2, R, 1..14 (stored -2, -1, 0, 1..14).
_YEAR_GROUP_CODES = {"N1": -2, "N2": -1, "R": 0}


def _parse_year_group(value: Any) -> Any:
    if isinstance(value, str):
        code = value.strip().upper()
        if code in _YEAR_GROUP_CODES:
            return _YEAR_GROUP_CODES[code]
        if code.removeprefix("Y").lstrip("-").isdigit():
            return int(code.removeprefix("Y"))
    return value


YearGroup = Annotated[
    int,
    BeforeValidator(_parse_year_group),
    Field(ge=-2, le=14, json_schema_extra=PERSONAL),
    WithJsonSchema(
        {
            "description": "National curriculum year: N1=-2, N2=-1, R=0, then 1..14 (the SEN2 "
            "codes 'N1', 'N2', 'R', '1'..'14' are accepted too).",
            "anyOf": [
                {"type": "integer", "minimum": -2, "maximum": 14},
                {"enum": [*_YEAR_GROUP_CODES, *(str(n) for n in range(1, 15))]},
            ],
            **PERSONAL,
        }
    ),
]


_NEED_BY_UPPER = {need.value.upper(): need for need in NeedType}


def _normalise_need(value: Any) -> Any:
    # SEN2 files write "SPLD" where our vocabulary says "SpLD"; match codes case-blind.
    return _NEED_BY_UPPER.get(value.strip().upper(), value) if isinstance(value, str) else value


NeedCode = Annotated[NeedType, BeforeValidator(_normalise_need)]


class _Inbound(BaseModel):
    # extra="ignore": see the module docstring (forward compatible, and names are dropped).
    model_config = ConfigDict(extra="ignore", frozen=True)


# Rules between fields that JSON Schema cannot state (it has no comparison of two
# values) are published under the extension keyword `x-rules` of the model's schema, one
# object per rule, so a council's system can check them before sending and no event that
# satisfies the published schema is dead-lettered for a rule it does not state:
#   {"rule": "before", "field": a, "other": b}  a < b when both are present;
#   {"rule": "after", "field": a, "other": b}   a > b when both are present;
#   {"rule": "age_between", "field": dob, "on": d, "minimum": m, "maximum": n}
#       the age in whole years on date d is within m..n when both are present.
# Paths are dotted from the model's root (`ehc_plan.issued_on`).
def _rules(*rules: dict[str, Any], dob_or_year_group: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = {"x-rules": list(rules)}
    if dob_or_year_group:
        extra["anyOf"] = [
            {"required": ["date_of_birth"], "properties": {"date_of_birth": {"type": "string"}}},
            {"required": ["year_group"], "properties": {"year_group": {"not": {"type": "null"}}}},
        ]
    return extra


_DOB_BEFORE_ISSUE = {
    "rule": "before",
    "field": "date_of_birth",
    "other": "ehc_plan.issued_on",
    "message": "date_of_birth must be before ehc_plan.issued_on",
}


class EhcPlanDates(_Inbound):
    """Dates of the EHC plan itself."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            {
                "rule": "after",
                "field": "next_review_due",
                "other": "issued_on",
                "message": "ehc_plan.next_review_due must be after ehc_plan.issued_on",
            }
        )
    )

    issued_on: date
    next_review_due: date = Field(description="Date the next annual review is due.")

    @model_validator(mode="after")
    def _review_after_issue(self) -> EhcPlanDates:
        if self.next_review_due <= self.issued_on:
            raise ValueError("ehc_plan.next_review_due must be after ehc_plan.issued_on")
        return self


class _ChildEvent(_Inbound):
    child_ref: ChildRef


def _dedupe_secondary(value: Any, info: ValidationInfo) -> Any:
    # A council may repeat the primary need among the secondary needs; that adds nothing.
    if value is None:
        return None
    primary = info.data.get("primary_need")
    return tuple(dict.fromkeys(need for need in value if need != primary))


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on a date."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


class _ChildProfile(_ChildEvent):
    """The child's details commissioning needs (shared by issued and placement requested)."""

    # Date of birth or year group: commissioning needs an age; SEN2 records one or both.
    model_config = ConfigDict(json_schema_extra=_rules(_DOB_BEFORE_ISSUE, dob_or_year_group=True))

    la_code: LaCode
    date_of_birth: date | None = Field(default=None, json_schema_extra=PERSONAL)
    year_group: YearGroup | None = Field(default=None, json_schema_extra=PERSONAL)
    primary_need: NeedCode = Field(json_schema_extra=PERSONAL)
    secondary_needs: tuple[NeedCode, ...] = Field(default=(), json_schema_extra=PERSONAL)
    ehc_plan: EhcPlanDates

    _secondary = field_validator("secondary_needs")(_dedupe_secondary)

    @model_validator(mode="after")
    def _profile_rules(self) -> _ChildProfile:
        if self.date_of_birth is None and self.year_group is None:
            raise ValueError("date_of_birth or year_group is required")
        if self.date_of_birth is not None and self.date_of_birth >= self.ehc_plan.issued_on:
            raise ValueError("date_of_birth must be before ehc_plan.issued_on")
        return self


class EhcPlanIssued(_ChildProfile):
    """``ehc.plan.issued``: a final EHC plan was issued (or re-issued) for a child."""

    attendance: Attendance | None = None
    postcode_district: PostcodeDistrict | None = Field(default=None, json_schema_extra=PERSONAL)


class EhcPlanAmended(_ChildEvent):
    """``ehc.plan.amended``: an EHC plan was amended; carries only the fields that changed."""

    la_code: LaCode | None = None
    date_of_birth: date | None = Field(default=None, json_schema_extra=PERSONAL)
    year_group: YearGroup | None = Field(default=None, json_schema_extra=PERSONAL)
    primary_need: NeedCode | None = Field(default=None, json_schema_extra=PERSONAL)
    secondary_needs: tuple[NeedCode, ...] | None = Field(default=None, json_schema_extra=PERSONAL)
    attendance: Attendance | None = None
    postcode_district: PostcodeDistrict | None = Field(default=None, json_schema_extra=PERSONAL)
    ehc_plan: EhcPlanDates | None = None

    _secondary = field_validator("secondary_needs")(_dedupe_secondary)


class EhcPlanReviewed(_ChildEvent):
    """``ehc.plan.reviewed``: the annual review was held; the next review date moves."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            {
                "rule": "after",
                "field": "next_review_due",
                "other": "reviewed_on",
                "message": "next_review_due must be after reviewed_on",
            }
        )
    )

    reviewed_on: date
    next_review_due: date

    @model_validator(mode="after")
    def _next_after_review(self) -> EhcPlanReviewed:
        if self.next_review_due <= self.reviewed_on:
            raise ValueError("next_review_due must be after reviewed_on")
        return self


class EhcPlanCeased(_ChildEvent):
    """``ehc.plan.ceased``: the council ceased to maintain the plan; placements must end."""

    ceased_on: date


class PlacementRequested(_ChildProfile):
    """``ehc.placement.requested``: panel agreed an NMISS placement is sought for the child."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _DOB_BEFORE_ISSUE,
            {
                "rule": "age_between",
                "field": "date_of_birth",
                "on": "required_start",
                "minimum": MIN_AGE_AT_START,
                "maximum": MAX_AGE_AT_START,
                "message": "date_of_birth gives an age at required_start outside "
                f"{MIN_AGE_AT_START} to {MAX_AGE_AT_START}",
            },
            dob_or_year_group=True,
        )
    )

    attendance: Attendance
    postcode_district: PostcodeDistrict
    required_start: date
    max_distance_km: float | None = Field(
        default=None, gt=0, le=1000, description="Furthest acceptable distance; none = any."
    )
    urgent: bool = False
    phase_transfer: bool = Field(
        default=False,
        description="The placement is for a transfer between phases of education (SEND "
        "Regulations 2014 reg 18(2), e.g. primary to secondary, or secondary to post-16) "
        "starting at required_start; placements then computes the day the school must be "
        "named by (reg 18(1)).",
    )

    @model_validator(mode="after")
    def _age_at_start(self) -> PlacementRequested:
        if self.date_of_birth is None:
            return self
        age = age_on(self.date_of_birth, self.required_start)
        if not MIN_AGE_AT_START <= age <= MAX_AGE_AT_START:
            raise ValueError(
                f"date_of_birth gives age {age} at required_start; "
                f"expected {MIN_AGE_AT_START} to {MAX_AGE_AT_START}"
            )
        return self


InboundEvent = EhcPlanIssued | EhcPlanAmended | EhcPlanReviewed | EhcPlanCeased | PlacementRequested

EventType = Literal[
    "ehc.plan.issued",
    "ehc.plan.amended",
    "ehc.plan.reviewed",
    "ehc.plan.ceased",
    "ehc.placement.requested",
]

EVENT_TYPES: dict[str, type[BaseModel]] = {
    "ehc.plan.issued": EhcPlanIssued,
    "ehc.plan.amended": EhcPlanAmended,
    "ehc.plan.reviewed": EhcPlanReviewed,
    "ehc.plan.ceased": EhcPlanCeased,
    "ehc.placement.requested": PlacementRequested,
}


class UnknownEventType(ValueError):
    """The envelope's ``type`` is not one of this topic's event types."""


def parse_data(event_type: str, data: Mapping[str, Any]) -> BaseModel:
    """Validate an envelope's ``data`` against the model for ``event_type``.

    Raises ``UnknownEventType`` or pydantic's ``ValidationError`` (dead-letter either).
    """
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise UnknownEventType(f"unknown {TOPIC} event type: {event_type!r}")
    return model.model_validate(data)


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema (validation mode) of every inbound event type, keyed by type string."""
    return {name: model.model_json_schema() for name, model in EVENT_TYPES.items()}


_NAME_LIKE = re.compile(r"name|alias", re.IGNORECASE)


def name_like_fields(data: Any, path: str = "data") -> list[str]:
    """Paths of keys that look like personal names (e.g. ``data.first_name``).

    The models drop such keys anyway; this only lets a handler warn the council. It returns
    paths, never values, so the warning itself carries no name.
    """
    found: list[str] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            child_path = f"{path}.{key}"
            if _NAME_LIKE.search(re.sub(r"[^a-z]", "", str(key).lower())):
                found.append(child_path)
            found.extend(name_like_fields(value, child_path))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(name_like_fields(item, f"{path}[{index}]"))
    return found
