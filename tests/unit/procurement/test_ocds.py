"""The OCDS mapping (domain.ocds): processes and ocids, what each release holds, the
legal basis per regime, and nothing that identifies a child; validated with
libcoveocds against the official OCDS 1.1 schema (0 errors)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from ocdskit.combine import package_releases
from ocdsmerge import Merger

from services.procurement.api.ocds import MERGE_RULES, MERGER
from services.procurement.domain import (
    Award,
    ChargeBasis,
    CompetitionKind,
    FeeBasis,
    RegimeCode,
    SchemeStatus,
    SupportItem,
    ocds,
)
from tests.ocds_check import problems, release_schema
from tests.unit.procurement.builders import NOW, scheme

PUB = ocds.Publisher("ocds-abc123", "Kent County Council", "GB-LAE-KEN")
NEED_ID = "7d7c2a34-1f0e-4c55-9d7e-2b1e8f5a9c01"
COMPETITION_ID = f"need-{NEED_ID}"
OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
APPROVED = OPENED + timedelta(days=20)


def award(**overrides: Any) -> Award:
    fields: dict[str, Any] = {
        "competition_id": COMPETITION_ID,
        "scheme_id": "S1",
        "round": 1,
        "kind": CompetitionKind.INDIVIDUAL,
        "category_code": "asd-day",
        "lot_code": None,
        "bid_id": "B1",
        "provider_id": "P1",
        "places": 1,
        "need_ref": NEED_ID,
        "fee_basis": FeeBasis.WEEKLY,
        "core_fee": Decimal("1500.00"),
        "weekly_core_fee": Decimal("1500.00"),
        "weeks_per_year": 38,
        "additional_support": (
            SupportItem("1:1 support for Jamie", Decimal("200.00"), ChargeBasis.WEEKLY),
        ),
        "start_date": date(2026, 4, 20),
        "end_date": date(2029, 7, 31),
        "annual_value": Decimal("64600.00"),
        "contract_value": Decimal("193800.50"),
        "price_score": Decimal("40"),
        "quality_score": Decimal("54"),
        "total_score": Decimal("94"),
        "approved_by": "commissioner-1",
        "approved_at": APPROVED,
        "standstill_ends_at": None,
        "notice_due_on": date(2026, 4, 21),
    }
    fields.update(overrides)
    return Award(**fields)


def call_off(**overrides: Any) -> ocds.CallOff:
    fields: dict[str, Any] = {
        "competition_id": COMPETITION_ID,
        "category_name": "ASD day",
        "need_type": "ASD",
        "kind": "individual",
        "places": 1,
        "status": "awarded",
        "opened_at": OPENED,
        "deadline_at": OPENED + timedelta(days=10),
        "award": award(),
        "supplier": ocds.Supplier("P1", "Oak Tree School", 123456),
        "contract_concluded_at": APPROVED,
    }
    fields.update(overrides)
    return ocds.CallOff(**fields)


def process(*call_offs: ocds.CallOff, **scheme_overrides: Any) -> ocds.SchemeProcess:
    return ocds.SchemeProcess(scheme(**scheme_overrides), NOW, call_offs)


def package(releases: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = package_releases(
        releases,
        uri="https://dps.example/schemes/S1/ocds/releases",
        publisher={"name": PUB.buyer_name},
        published_date=ocds.timestamp(APPROVED + timedelta(days=1)),
        version=ocds.OCDS_VERSION,
        extensions=list(ocds.EXTENSIONS),
    )
    return out


def test_scheme_is_one_process_and_each_call_off_its_own_related_as_framework() -> None:
    releases = ocds.scheme_releases(PUB, process(call_off(), call_off(competition_id="C2")))
    scheme_ocid = "ocds-abc123-S1"
    ocids = {r["ocid"] for r in releases}
    call_off_ocids = ocids - {scheme_ocid}
    assert scheme_ocid in ocids and len(call_off_ocids) == 2
    assert all(o.startswith(f"{scheme_ocid}-") for o in call_off_ocids)
    call_off_tenders = [r for r in releases if r["ocid"] != scheme_ocid and "tender" in r["tag"]]
    assert len(call_off_tenders) == 2
    for r in call_off_tenders:
        assert r["relatedProcesses"] == [
            {
                "id": "framework",
                "relationship": ["framework"],
                "title": "NMISS placements DPS",
                "scheme": "ocid",
                "identifier": scheme_ocid,
            }
        ]
    # Release ids are unique and the releases come oldest first (merge order).
    assert len({r["id"] for r in releases}) == len(releases)
    assert [r["date"] for r in releases] == sorted(r["date"] for r in releases)


def test_tags_dates_parties_and_values_follow_the_call_off() -> None:
    tender, awarded, contract = ocds.call_off_releases(PUB, process(), call_off())
    assert [tender["tag"], awarded["tag"], contract["tag"]] == [["tender"], ["award"], ["contract"]]
    assert tender["date"] == "2026-03-02T10:00:00Z"
    assert tender["tender"]["tenderPeriod"] == {
        "startDate": "2026-03-02T10:00:00Z",
        "endDate": "2026-03-12T10:00:00Z",
    }
    assert tender["tender"]["status"] == "complete"
    assert awarded["date"] == contract["date"] == "2026-03-22T10:00:00Z"
    (a,) = awarded["awards"]
    assert a["status"] == "active"
    assert a["value"] == {"amount": 193800.5, "currency": "GBP"}
    assert a["suppliers"] == [{"id": "GB-EDU-123456", "name": "Oak Tree School"}]
    buyer, supplier = awarded["parties"]
    assert buyer == {
        "id": "GB-LAE-KEN",
        "name": "Kent County Council",
        "roles": ["buyer"],
        "identifier": {"scheme": "GB-LAE", "id": "KEN"},
    }
    assert supplier["roles"] == ["supplier"]
    assert supplier["identifier"] == {
        "scheme": "GB-EDU",
        "id": "123456",
        "legalName": "Oak Tree School",
    }
    (c,) = contract["contracts"]
    assert c["awardID"] == a["id"] and c["status"] == "active"
    assert c["period"] == {"startDate": "2026-04-20T00:00:00Z", "endDate": "2029-07-31T23:59:59Z"}


def test_a_call_off_awarded_in_the_second_it_opened_keeps_its_stages_in_order() -> None:
    """Dates are to the second; within one, tender comes before award and contract
    (their ids alone would sort award, contract, tender)."""
    same_second = call_off(
        opened_at=OPENED,
        award=award(approved_at=OPENED + timedelta(milliseconds=400)),
        contract_concluded_at=OPENED + timedelta(milliseconds=400),
    )
    releases = ocds.scheme_releases(PUB, process(same_second))
    call_off_tags = [r["tag"] for r in releases if r["ocid"] != releases[0]["ocid"]]
    assert {r["date"] for r in releases[1:]} == {"2026-03-02T10:00:00Z"}
    assert call_off_tags == [["tender"], ["award"], ["contract"]]


def test_award_in_standstill_is_pending_and_has_no_contract_yet() -> None:
    ends = APPROVED + timedelta(days=10)
    in_standstill = call_off(award=award(standstill_ends_at=ends), contract_concluded_at=None)
    releases = ocds.call_off_releases(PUB, process(), in_standstill)
    assert [r["tag"] for r in releases] == [["tender"], ["award"]]
    (a,) = releases[1]["awards"]
    assert a["status"] == "pending"
    # The UK extension's field, as Find a Tender publishes the standstill.
    assert a["standstillPeriod"] == {
        "startDate": "2026-03-22T10:00:00Z",
        "endDate": "2026-04-01T10:00:00Z",
    }
    assert problems(package(releases)) == {}


def test_open_call_off_has_only_its_tender_and_a_failed_one_is_unsuccessful() -> None:
    (open_,) = ocds.call_off_releases(
        PUB, process(), call_off(status="open", award=None, supplier=None)
    )
    assert open_["tender"]["status"] == "active"
    (failed,) = ocds.call_off_releases(
        PUB, process(), call_off(status="no_suitable_bid", award=None, supplier=None)
    )
    assert failed["tender"]["status"] == "unsuccessful"


def test_draft_scheme_is_not_published() -> None:
    draft = ocds.SchemeProcess(replace(scheme(), status=SchemeStatus.DRAFT), NOW, ())
    assert ocds.scheme_releases(PUB, draft) == []


def test_scheme_release_holds_terms_parts_and_the_imported_establishment_date() -> None:
    (r,) = ocds.scheme_releases(PUB, process())
    assert r["ocid"] == "ocds-abc123-S1" and r["tag"] == ["tender"]
    assert r["date"] == "2024-11-01T00:00:00Z"  # established_on of an imported scheme
    t = r["tender"]
    assert t["id"] == "KCC-NMISS-DPS" and t["status"] == "active"
    assert t["contractPeriod"] == {
        "startDate": "2025-02-24T00:00:00Z",
        "endDate": "2029-02-23T23:59:59Z",
        "maxExtentDate": "2031-02-23T23:59:59Z",
    }
    assert [i["id"] for i in t["items"]] == ["asd-day", "semh-res"]
    assert {i["classification"]["id"] for i in t["items"]} == {"80340000"}
    closed_scheme = replace(scheme(), status=SchemeStatus.CLOSED)
    closed = ocds.scheme_releases(PUB, ocds.SchemeProcess(closed_scheme, NOW, ()))
    assert closed[0]["tender"]["status"] == "complete"


@pytest.mark.parametrize(
    ("regime", "scheme_", "id_", "words"),
    [
        (RegimeCode.PCR2015, "CELEX", "32014L0024", "PCR 2015 reg 34"),
        (RegimeCode.PCR2015_LIGHT_TOUCH, "CELEX", "32014L0024", "regs 74-76"),
        (RegimeCode.PA2023_DYNAMIC_MARKET, "UKPGA", "2023/54", "ss. 34-40"),
    ],
)
def test_each_process_says_which_regime_it_is_under(
    regime: RegimeCode, scheme_: str, id_: str, words: str
) -> None:
    p = ocds.SchemeProcess(replace(scheme(), regime=regime), NOW, (call_off(),))
    for r in ocds.scheme_releases(PUB, p):
        if "tender" in r:
            assert (r["tender"]["legalBasis"]["scheme"], r["tender"]["legalBasis"]["id"]) == (
                scheme_,
                id_,
            )
    assert words in ocds.scheme_release(PUB, p)["tender"]["procurementMethodDetails"]


def test_an_unlisted_regime_falls_back_to_its_act() -> None:
    assert ocds.legal_basis("pa2023_something_new").id == "2023/54"
    assert ocds.legal_basis("pcr2015_other").scheme == "CELEX"


def test_nothing_identifies_a_child() -> None:
    c = call_off()
    text = json.dumps(ocds.scheme_releases(PUB, process(c)))
    assert NEED_ID not in text and COMPETITION_ID not in text
    assert "Jamie" not in text  # a bid's additional-support description
    assert ocds.call_off_token(COMPETITION_ID) in text  # the one-way token instead


def test_releases_validate_with_0_errors_against_the_official_schema() -> None:
    releases = ocds.scheme_releases(
        PUB, process(call_off(), call_off(competition_id="C2", contract_concluded_at=None))
    )
    assert problems(package(releases)) == {}


def test_the_validation_finds_a_broken_release() -> None:
    (r,) = ocds.scheme_releases(PUB, process())
    broken = {**r, "date": "yesterday", "tender": {**r["tender"], "status": "paused"}}
    found = problems(package([broken]))
    assert found["validation_errors"][0]["path"] == "releases/0/date"
    assert "releases/tender/status" in found["additional_closed_codelist_values"]


def test_merge_rules_kept_with_the_code_are_the_official_schemas() -> None:
    from ocdsmerge.rules import get_merge_rules

    assert get_merge_rules(release_schema()) == MERGE_RULES
    releases = ocds.scheme_releases(PUB, process(call_off()))
    mine = [r for r in releases if r["ocid"] != "ocds-abc123-S1"]
    official = Merger(schema=release_schema()).create_compiled_release(mine)
    assert MERGER.create_compiled_release(mine) == official
    assert official["tag"] == ["compiled"] and official["awards"][0]["status"] == "active"
