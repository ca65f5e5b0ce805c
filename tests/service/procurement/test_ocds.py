"""The OCDS 1.1 output over HTTP: a scheme's release package and a contracting process's
record package, after a scheme is established, members admitted and a call-off run to
award; validated with libcoveocds against the official schema (0 errors); no child
reference anywhere in it."""

from __future__ import annotations

import json

from shared.contracts.common import Role
from tests.ocds_check import problems, record_releases_as_package
from tests.service.procurement.conftest import Driver
from tests.service.procurement.test_notices import BLOCK, awarded

CHILD_TITLE = "Placement for KCC-EHC-000777"
PREFIX = "ocds-xxxxxx"  # the settings' default


async def test_feed_and_record_validate_and_name_no_child(proc: Driver) -> None:
    need_ref = "need-ab12cd"
    scheme_id, competition_id = await awarded(proc, title=CHILD_TITLE, need_ref=need_ref)

    r = await proc.get(f"/schemes/{scheme_id}/ocds/releases", role=Role.COUNCIL_SYSTEM)
    assert r.status_code == 200, r.text
    feed = r.json()
    assert feed["version"] == "1.1" and feed["uri"].endswith(f"/schemes/{scheme_id}/ocds/releases")
    assert problems(feed) == {}
    scheme_ocid = f"{PREFIX}-{scheme_id}"
    by_ocid: dict[str, list[str]] = {}
    for release in feed["releases"]:
        by_ocid.setdefault(release["ocid"], []).extend(release["tag"])
    (call_off_ocid,) = set(by_ocid) - {scheme_ocid}
    assert by_ocid == {scheme_ocid: ["tender"], call_off_ocid: ["tender", "award", "contract"]}
    award = next(x for x in feed["releases"] if "award" in x["tag"])["awards"][0]
    assert award["suppliers"][0]["name"] == "School p-1"
    assert award["value"]["currency"] == "GBP" and award["value"]["amount"] > 0

    records = {}
    for ocid in (scheme_ocid, call_off_ocid):
        r = await proc.get(f"/ocds/records/{ocid}", role=Role.COMMISSIONER)
        assert r.status_code == 200, r.text
        records[ocid] = r.json()
    (record,) = records[call_off_ocid]["records"]
    assert record["ocid"] == call_off_ocid and len(record["releases"]) == 3
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"] and compiled["ocid"] == call_off_ocid
    assert compiled["tender"]["status"] == "complete"
    assert compiled["awards"][0]["status"] == "active" and compiled["contracts"][0]["status"]
    assert {p["roles"][0] for p in compiled["parties"]} == {"buyer", "supplier"}
    assert compiled["relatedProcesses"][0]["identifier"] == scheme_ocid
    for package in records.values():
        for key in ("uri", "publisher", "publishedDate", "version"):
            assert package[key]
        assert problems(record_releases_as_package(package)) == {}

    # Nothing identifies a child: not the call-off's title, its need reference, its
    # competition id (need-<need id> for a placement need), its age or its search area.
    text = json.dumps([feed, *records.values()])
    for secret in (
        CHILD_TITLE,
        "KCC-EHC-000777",
        need_ref,
        competition_id,
        "min_age",
        "1:1 support",
    ):
        assert secret not in text, secret


async def test_record_of_an_unknown_ocid_is_404_and_a_provider_may_not_read(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    for ocid in (f"{PREFIX}-nope", f"ocds-zzzzzz-{scheme_id}", f"{PREFIX}-{scheme_id}-0000"):
        r = await proc.get(f"/ocds/records/{ocid}")
        assert r.status_code == 404, (ocid, r.text)
    r = await proc.get(f"/schemes/{scheme_id}/ocds/releases", role=Role.PROVIDER, provider_id="p-1")
    assert r.status_code == 403
    r = await proc.get("/schemes/nope/ocds/releases")
    assert r.status_code == 404


async def test_block_award_in_standstill_is_pending_with_its_standstill(proc: Driver) -> None:
    scheme_id, _ = await awarded(proc, **BLOCK)
    feed = (await proc.get(f"/schemes/{scheme_id}/ocds/releases")).json()
    assert problems(feed) == {}
    tags = [t for r in feed["releases"] for t in r["tag"]]
    assert "award" in tags and "contract" not in tags  # no contract until standstill ends
    (award,) = next(r for r in feed["releases"] if "award" in r["tag"])["awards"]
    assert award["status"] == "pending"
    assert award["standstillPeriod"]["endDate"] > award["standstillPeriod"]["startDate"]
