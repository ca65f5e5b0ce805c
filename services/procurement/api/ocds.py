"""HTTP routes of the OCDS 1.1 output, for the council's publication step (read-only).

``GET /schemes/{scheme_id}/ocds/releases``: a release package of the scheme's
contracting process and of every call-off's (domain.ocds decides what each release
holds). ``GET /ocds/records/{ocid}``: a record package with the one record of that
contracting process, its releases and their compiled release.

Packages are made with ocdskit, the compiled release with ocdsmerge. ocdsmerge takes
its merge rules from the release schema, which this service never downloads (it runs
where standard.open-contracting.org may be out of reach): the rules are kept below and
tests/unit/procurement/test_ocds_schema.py checks them against the official schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from ocdskit.combine import package_records, package_releases
from ocdsmerge import Merger

from services.procurement import store
from services.procurement.api._common import Runtime, current_time
from services.procurement.domain import ocds
from services.procurement.policy import ALLOWED
from shared.errors import NotFound
from shared.unit_of_work import Actor

router = APIRouter(tags=["procurement"])

# The merge rules of the OCDS 1.1.4 release schema ("omitWhenMerged" and
# "wholeListMerge"), as ocdsmerge.rules.get_merge_rules derives them from it.
OMIT, WHOLE = "omitWhenMerged", "wholeListMerge"
MERGE_RULES: dict[tuple[str, ...], str] = {
    ("id",): OMIT,
    ("date",): OMIT,
    ("tag",): OMIT,
    **{
        path: WHOLE
        for path in (
            ("awards", "amendment", "changes"),
            ("awards", "amendments", "changes"),
            ("awards", "items", "additionalClassifications"),
            ("awards", "suppliers", "additionalIdentifiers"),
            ("buyer", "additionalIdentifiers"),
            ("contracts", "amendment", "changes"),
            ("contracts", "amendments", "changes"),
            ("contracts", "implementation", "transactions", "payee", "additionalIdentifiers"),
            ("contracts", "implementation", "transactions", "payer", "additionalIdentifiers"),
            ("contracts", "items", "additionalClassifications"),
            ("contracts", "relatedProcesses", "relationship"),
            ("parties", "additionalIdentifiers"),
            ("parties", "roles"),
            ("relatedProcesses", "relationship"),
            ("tender", "additionalProcurementCategories"),
            ("tender", "amendment", "changes"),
            ("tender", "amendments", "changes"),
            ("tender", "items", "additionalClassifications"),
            ("tender", "procuringEntity", "additionalIdentifiers"),
            ("tender", "submissionMethod"),
            ("tender", "tenderers", "additionalIdentifiers"),
        )
    },
}
MERGER = Merger(merge_rules=MERGE_RULES)


def publisher_of(runtime: Runtime) -> ocds.Publisher:
    s = runtime.settings
    return ocds.Publisher(s.ocds_ocid_prefix, s.ocds_buyer_name, s.ocds_buyer_id)


def _package_publisher(p: ocds.Publisher) -> dict[str, str]:
    out = {"name": p.buyer_name}
    if p.buyer_id:
        country, register, local = p.buyer_id.split("-", 2)
        out |= {"scheme": f"{country}-{register}", "uid": local}
    return out


@router.get("/schemes/{scheme_id}/ocds/releases")
async def scheme_release_package(
    scheme_id: str, request: Request, runtime: Runtime, _: Actor = ALLOWED
) -> dict[str, Any]:
    """The scheme's OCDS 1.1 release package: the scheme established (``tender``) and,
    per call-off (its own ocid, related to the scheme as ``framework``), ``tender``,
    ``award`` and ``contract``. A draft scheme has none. Nothing identifies a child."""
    async with runtime.db.session() as session:
        process = await store.load_scheme_process(session, scheme_id)
    p = publisher_of(runtime)
    package: dict[str, Any] = package_releases(
        ocds.scheme_releases(p, process),
        uri=str(request.url),
        publisher=_package_publisher(p),
        published_date=ocds.timestamp(current_time()),
        version=ocds.OCDS_VERSION,
        extensions=list(ocds.EXTENSIONS),
    )
    return package


@router.get("/ocds/records/{ocid}")
async def record_package(
    ocid: str, request: Request, runtime: Runtime, _: Actor = ALLOWED
) -> dict[str, Any]:
    """The record package of one contracting process (a scheme's or a call-off's ocid,
    as the release package names them): its releases and their compiled release."""
    p = publisher_of(runtime)
    prefix = f"{p.ocid_prefix}-"
    if not ocid.startswith(prefix):
        raise NotFound("ocds_record", ocid)
    rest = ocid[len(prefix) :]
    # A scheme's ocid is <prefix>-<scheme id>; a call-off's adds -<token> (no hyphen).
    candidates = [rest, rest.rsplit("-", 1)[0]] if "-" in rest else [rest]
    releases: list[dict[str, Any]] = []
    async with runtime.db.session() as session:
        for scheme_id in candidates:
            try:
                process = await store.load_scheme_process(session, scheme_id)
            except NotFound:
                continue
            releases = [r for r in ocds.scheme_releases(p, process) if r["ocid"] == ocid]
            if releases:
                break
    if not releases:
        raise NotFound("ocds_record", ocid)
    record = {
        "ocid": ocid,
        "releases": releases,
        "compiledRelease": MERGER.create_compiled_release(releases),
    }
    package: dict[str, Any] = package_records(
        [record],
        uri=str(request.url),
        publisher=_package_publisher(p),
        published_date=ocds.timestamp(current_time()),
        version=ocds.OCDS_VERSION,
        extensions=list(ocds.EXTENSIONS),
    )
    return package
