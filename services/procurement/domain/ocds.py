"""Schemes and their call-offs as Open Contracting Data Standard (OCDS 1.1) releases.

Pure mapping: facts in, release dicts out (packaging and the compiled record are the
API's, with ocdskit and ocdsmerge). The contracting processes follow the OCDS guidance
on frameworks and dynamic purchasing systems: the scheme (DPS, dynamic market or open
framework) is one contracting process, ``<prefix>-<scheme id>``; each call-off is its
own, ``<prefix>-<scheme id>-<call-off token>``, whose ``relatedProcesses`` name the
scheme with the relationship ``framework``.

Nothing here may identify a child (UK GDPR Art. 5(1)(c), Art. 9; docs/law/children-data.md):
a call-off is described by its category and need type only. Never its title (a
council's free text), its need reference, its competition id (``need-<need id>``
for a placement need), the age or the search origin of its filter, nor the
descriptions of a bid's additional support. The call-off token is a one-way UUID5
of the competition id, so the published ocid does not carry the need id.

Which law a process runs under is ``tender.legalBasis`` (the OCDS legalBasis
extension, as the UK's Find a Tender service publishes it: ``UKPGA`` ``2023/54`` for
the Procurement Act 2023; ``CELEX`` ``32014L0024``, the directive the Public Contracts
Regulations 2015 implement, for PCR 2015) and, in words, ``procurementMethodDetails``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.procurement.domain.awards import Award
from services.procurement.domain.schemes import Scheme, SchemeStatus

JSON = dict[str, Any]

OCDS_VERSION = "1.1"
# The extensions whose fields the releases use beyond the core schema, as Find a Tender
# declares them: tender.legalBasis, and the UK extension's awards.standstillPeriod.
LEGAL_BASIS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_legalBasis_extension/master/extension.json"
)
UK_EXTENSION = (
    "https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json"
)
EXTENSIONS: tuple[str, ...] = (LEGAL_BASIS_EXTENSION, UK_EXTENSION)

# Common Procurement Vocabulary: 80340000 "Special education services" (what a
# placement of a child with an EHC plan at a special or independent school buys).
CPV_SPECIAL_EDUCATION: JSON = {
    "scheme": "CPV",
    "id": "80340000",
    "description": "Special education services",
}

# A fixed namespace: the same competition always gets the same published token.
_CALL_OFF_NAMESPACE = uuid.UUID("5b0f2f0e-6c1a-5d44-9a57-0c3d2b7e4f11")


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who publishes: the OCID prefix and the buyer (the council), from settings."""

    ocid_prefix: str
    buyer_name: str
    buyer_id: str = ""  # org-id "<scheme>-<id>", e.g. GB-LAE-KEN; "" if none

    @property
    def buyer_party_id(self) -> str:
        return self.buyer_id or "buyer"


@dataclass(frozen=True, slots=True)
class Supplier:
    """The awarded provider as the register knows it (an organisation, never a child)."""

    provider_id: str
    name: str
    urn: int | None  # DfE establishment URN: org-id scheme GB-EDU


@dataclass(frozen=True, slots=True)
class CallOff:
    """What may be published of one call-off: category and need type, dates, award."""

    competition_id: str  # only to derive the token; never published
    category_name: str
    need_type: str
    kind: str  # individual | block
    places: int
    status: str  # CompetitionStatus value
    opened_at: datetime
    deadline_at: datetime
    award: Award | None = None
    supplier: Supplier | None = None
    # When the contract exists: at the award, or when standstill ended.
    contract_concluded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SchemeProcess:
    """A scheme with its call-offs, as the feed publishes them."""

    scheme: Scheme
    created_at: datetime
    call_offs: tuple[CallOff, ...] = ()


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """tender.legalBasis and the words of procurementMethodDetails for one regime."""

    scheme: str
    id: str
    description: str
    uri: str
    scheme_method: str
    call_off_method: str

    def as_json(self) -> JSON:
        return {
            "scheme": self.scheme,
            "id": self.id,
            "description": self.description,
            "uri": self.uri,
        }


_PCR_2015 = ("CELEX", "32014L0024", "https://www.legislation.gov.uk/uksi/2015/102/contents")
_PA_2023 = ("UKPGA", "2023/54", "https://www.legislation.gov.uk/ukpga/2023/54/contents")

LEGAL_BASES: dict[str, LegalBasis] = {
    "pcr2015": LegalBasis(
        *_PCR_2015[:2],
        "Public Contracts Regulations 2015 (SI 2015/102), implementing Directive 2014/24/EU",
        _PCR_2015[2],
        "Dynamic purchasing system, restricted procedure (PCR 2015 reg 34)",
        "Call-off under a dynamic purchasing system: every admitted member of the "
        "category invited (PCR 2015 reg 34(20)-(23))",
    ),
    "pcr2015_light_touch": LegalBasis(
        *_PCR_2015[:2],
        "Public Contracts Regulations 2015 (SI 2015/102), light-touch regime (regs 74-76)",
        _PCR_2015[2],
        "Dynamic purchasing system under the light-touch regime (PCR 2015 regs 74-76)",
        "Call-off under the scheme's published rules (PCR 2015 reg 76)",
    ),
    "pa2023_dynamic_market": LegalBasis(
        *_PA_2023[:2],
        "Procurement Act 2023",
        _PA_2023[2],
        "Dynamic market (Procurement Act 2023 ss. 34-40)",
        "Competitive flexible procedure among members of the dynamic market "
        "(Procurement Act 2023 s. 20(2)(b), s. 34)",
    ),
    "pa2023_open_framework": LegalBasis(
        *_PA_2023[:2],
        "Procurement Act 2023",
        _PA_2023[2],
        "Open framework (Procurement Act 2023 ss. 45, 49)",
        "Call-off under the framework: competitive selection process or direct award "
        "as the framework sets out (Procurement Act 2023 s. 46)",
    ),
}


def legal_basis(regime: str) -> LegalBasis:
    """The regime's legal basis; a regime not listed falls back to its Act's."""
    if regime in LEGAL_BASES:
        return LEGAL_BASES[regime]
    base = "pa2023_dynamic_market" if regime.startswith("pa2023") else "pcr2015"
    known = LEGAL_BASES[base]
    return LegalBasis(
        known.scheme,
        known.id,
        known.description,
        known.uri,
        f"{regime} ({known.description})",
        f"Call-off under {regime} ({known.description})",
    )


# --------------------------------------------------------------------- identifiers


def scheme_ocid(prefix: str, scheme_id: str) -> str:
    return f"{prefix}-{scheme_id}"


def call_off_token(competition_id: str) -> str:
    """A one-way, stable token for a call-off (its id may carry a need id)."""
    return uuid.uuid5(_CALL_OFF_NAMESPACE, competition_id).hex[:16]


def call_off_ocid(prefix: str, scheme_id: str, competition_id: str) -> str:
    return f"{scheme_ocid(prefix, scheme_id)}-{call_off_token(competition_id)}"


# -------------------------------------------------------------------------- values


def timestamp(at: datetime) -> str:
    """An OCDS date-time (RFC 3339, UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def day_end(day: date) -> str:
    return f"{day.isoformat()}T23:59:59Z"


def gbp(amount: Decimal) -> JSON:
    """An OCDS Value: a JSON number of pounds (to the penny, as stored) in GBP."""
    return {"amount": float(amount), "currency": "GBP"}


def _buyer(p: Publisher) -> JSON:
    return {"id": p.buyer_party_id, "name": p.buyer_name}


def _buyer_party(p: Publisher) -> JSON:
    party: JSON = {"id": p.buyer_party_id, "name": p.buyer_name, "roles": ["buyer"]}
    if p.buyer_id:
        # org-id identifiers are "<country>-<register>-<id>" (e.g. GB-PPON-..., GB-LAE-...).
        country, register, local = p.buyer_id.split("-", 2)
        party["identifier"] = {"scheme": f"{country}-{register}", "id": local}
    return party


def supplier_party_id(s: Supplier) -> str:
    return f"GB-EDU-{s.urn}" if s.urn is not None else f"dps-provider-{s.provider_id}"


def _supplier_party(s: Supplier) -> JSON:
    party: JSON = {"id": supplier_party_id(s), "name": s.name, "roles": ["supplier"]}
    if s.urn is not None:
        party["identifier"] = {"scheme": "GB-EDU", "id": str(s.urn), "legalName": s.name}
    return party


# ------------------------------------------------------------------ the scheme process

_SCHEME_TENDER_STATUS = {
    SchemeStatus.DRAFT: "planning",
    SchemeStatus.OPEN: "active",
    SchemeStatus.SUSPENDED: "active",  # still in force; new call-offs paused
    SchemeStatus.CLOSED: "complete",
}


def published(scheme: Scheme) -> bool:
    """A draft scheme has no notice yet: it is not in the feed."""
    return scheme.status is not SchemeStatus.DRAFT


def scheme_release(p: Publisher, process: SchemeProcess) -> JSON:
    """The scheme established (tag ``tender``): its terms, parts and legal basis."""
    s = process.scheme
    ocid = scheme_ocid(p.ocid_prefix, s.scheme_id)
    basis = legal_basis(s.regime.value)
    # An imported scheme keeps the date it was established under its old system.
    released = (
        datetime.combine(s.established_on, datetime.min.time(), UTC)
        if s.imported and s.established_on
        else process.created_at
    )
    period: JSON = {"startDate": day_start(s.term_start), "endDate": day_end(s.term_end)}
    if s.max_extension_end is not None:
        period["maxExtentDate"] = day_end(s.max_extension_end)
    return {
        "ocid": ocid,
        "id": f"{ocid}-tender",
        "date": timestamp(released),
        "tag": ["tender"],
        "initiationType": "tender",
        "parties": [_buyer_party(p)],
        "buyer": _buyer(p),
        "tender": {
            "id": s.reference,
            "title": s.title,
            "status": _SCHEME_TENDER_STATUS[s.status],
            "procurementMethod": "selective",
            "procurementMethodDetails": basis.scheme_method,
            "legalBasis": basis.as_json(),
            "mainProcurementCategory": "services",
            "items": [
                {
                    "id": c.code,
                    "description": f"{c.name} (need types {', '.join(sorted(c.need_types))})",
                    "classification": CPV_SPECIAL_EDUCATION,
                }
                for c in s.categories
            ],
            "contractPeriod": period,
        },
    }


# ---------------------------------------------------------------- call-off processes

_CALL_OFF_TENDER_STATUS = {
    "open": "active",
    "closed": "active",  # past the deadline, being evaluated
    "evaluation": "active",
    "evaluated": "active",
    "awarded": "complete",
    "no_suitable_bid": "unsuccessful",
    "no_eligible_members": "unsuccessful",
}


def _call_off_title(c: CallOff) -> str:
    return f"{c.kind.capitalize()} call-off: {c.category_name}"


def call_off_releases(p: Publisher, process: SchemeProcess, c: CallOff) -> list[JSON]:
    """The call-off's releases: ``tender`` when opened, ``award`` when approved,
    ``contract`` once the contract exists (at once, or when standstill ended)."""
    s = process.scheme
    ocid = call_off_ocid(p.ocid_prefix, s.scheme_id, c.competition_id)
    token = call_off_token(c.competition_id)
    basis = legal_basis(s.regime.value)
    common: JSON = {"ocid": ocid, "initiationType": "tender", "buyer": _buyer(p)}
    tender: JSON = {
        **common,
        "id": f"{ocid}-tender",
        "date": timestamp(c.opened_at),
        "tag": ["tender"],
        "parties": [_buyer_party(p)],
        "tender": {
            "id": token,
            "title": _call_off_title(c),
            "description": f"{c.category_name}; need type {c.need_type}",
            "status": _CALL_OFF_TENDER_STATUS.get(c.status, "active"),
            "procurementMethod": "selective",  # only the scheme's members are invited
            "procurementMethodDetails": basis.call_off_method,
            "legalBasis": basis.as_json(),
            "mainProcurementCategory": "services",
            "items": [
                {
                    "id": "1",
                    "description": c.category_name,
                    "classification": CPV_SPECIAL_EDUCATION,
                    "quantity": c.places,
                }
            ],
            "tenderPeriod": {
                "startDate": timestamp(c.opened_at),
                "endDate": timestamp(c.deadline_at),
            },
        },
        "relatedProcesses": [
            {
                "id": "framework",
                "relationship": ["framework"],
                "title": s.title,
                "scheme": "ocid",
                "identifier": scheme_ocid(p.ocid_prefix, s.scheme_id),
            }
        ],
    }
    out = [tender]
    a, supplier = c.award, c.supplier
    if a is None or supplier is None:
        return out
    award_id = f"{token}-award"
    period: JSON = {"startDate": day_start(a.start_date)}
    if a.end_date is not None:
        period["endDate"] = day_end(a.end_date)
    concluded = c.contract_concluded_at
    award_json: JSON = {
        "id": award_id,
        "title": f"Award: {c.category_name}",
        # pending: proposed, not yet in force (in standstill)
        "status": "active" if concluded is not None else "pending",
        "date": timestamp(a.approved_at),
        "value": gbp(a.contract_value),
        "suppliers": [{"id": supplier_party_id(supplier), "name": supplier.name}],
        "contractPeriod": period,
    }
    if a.standstill_ends_at is not None:
        award_json["standstillPeriod"] = {
            "startDate": timestamp(a.approved_at),
            "endDate": timestamp(a.standstill_ends_at),
        }
    out.append(
        {
            **common,
            "id": f"{ocid}-award",
            "date": timestamp(a.approved_at),
            "tag": ["award"],
            "parties": [_buyer_party(p), _supplier_party(supplier)],
            "awards": [award_json],
        }
    )
    if concluded is not None:
        out.append(
            {
                **common,
                "id": f"{ocid}-contract",
                "date": timestamp(concluded),
                "tag": ["contract"],
                "parties": [_buyer_party(p), _supplier_party(supplier)],
                "contracts": [
                    {
                        "id": f"{token}-contract",
                        "awardID": award_id,
                        "title": f"Contract: {c.category_name}",
                        "status": "active",
                        "period": period,
                        "value": gbp(a.contract_value),
                    }
                ],
            }
        )
    return out


def scheme_releases(p: Publisher, process: SchemeProcess) -> list[JSON]:
    """Every release of the scheme and its call-offs, oldest first (none for a draft)."""
    if not published(process.scheme):
        return []
    releases = [scheme_release(p, process)]
    for c in process.call_offs:
        releases.extend(call_off_releases(p, process, c))
    return sorted(releases, key=_release_order)


# A process's stages in the order they happen (OCDS release tag codelist): releases of
# one process dated the same second (dates are to the second) keep that order.
_STAGES = ("planning", "tender", "award", "contract", "implementation")


def _release_order(release: JSON) -> tuple[str, str, int, str]:
    stage = release["tag"][0]
    rank = _STAGES.index(stage) if stage in _STAGES else len(_STAGES)
    return release["date"], release["ocid"], rank, release["id"]
