"""`dps returns`: the council's statutory returns from a running stack (placements API).

`dps returns sen2 --year 2027` fetches the SEN2 placement detail (XML by default, as the
DfE specification has it; JSON with --format json) and says which rules it breaks;
`dps returns lgtc --quarter 2026-Q3` fetches the Transparency Code contracts list (CSV).
Both act as a commissioner, with a token signed by this installation (or the one given).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dps.cli_common import fail, local_token, stack_ports, stack_settings
from shared.contracts.common import Role

returns_app = typer.Typer(
    help="The council's statutory returns (SEN2, Transparency Code contracts).",
    no_args_is_help=True,
)

TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="DPS_RETURNS_TOKEN",
        help="a commissioner's bearer token (default: one signed with this installation's key)",
    ),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="write here instead of standard output")
]


class Sen2Format(StrEnum):
    xml = "xml"
    json = "json"


def _get(path: str, params: dict[str, Any], token: str | None) -> Any:
    import httpx

    from dps.operate import Operator

    settings = stack_settings()
    operator = Operator(settings, ports=stack_ports(settings))
    token = token or local_token(settings, Role.COMMISSIONER, "dps-returns")
    headers = {"Authorization": f"Bearer {token}", "X-Access-Reason": "statutory return"}
    try:
        response = httpx.get(
            operator.url("placements", path), params=params, headers=headers, timeout=60
        )
    except httpx.HTTPError as exc:
        fail(f"placements did not answer: {exc}")
        raise
    if response.status_code != 200:
        fail(f"placements answered {response.status_code}: {response.text}")
    return response


def _write(content: bytes, out: Path | None) -> None:
    if out is None:
        typer.echo(content.decode("utf-8"), nl=False)
        return
    out.write_bytes(content)
    typer.echo(f"wrote {out}", err=True)


@returns_app.command("sen2")
def sen2(
    year: Annotated[int, typer.Option(help="the January census year, e.g. 2027")],
    out: OutOption = None,
    format: Annotated[Sen2Format, typer.Option()] = Sen2Format.xml,
    la_code: Annotated[str | None, typer.Option(help="the council's 3-digit LA number")] = None,
    token: TokenOption = None,
) -> None:
    """The SEN2 placement detail of the census year, keyed by pseudonymous child reference
    for the case-management system to join; exits 1 when it breaks a rule of the spec."""
    params: dict[str, Any] = {"year": year, "format": "json"}
    if la_code:
        params["la_code"] = la_code
    checked = _get("/returns/sen2", params, token).json()
    if format == Sen2Format.json:
        _write(json.dumps(checked, indent=2).encode("utf-8") + b"\n", out)
    else:
        _write(_get("/returns/sen2", {**params, "format": "xml"}, token).content, out)
    typer.echo(f"SEN2 {year}: {len(checked['placements'])} placements", err=True)
    for issue in checked["issues"]:
        typer.echo(
            f"  {issue['placement_id']}: {issue['field']}: {issue.get('message', issue['rule'])}"
            f" [{issue['rule']}] ({issue['source']})",
            err=True,
        )
    if not checked["valid"]:
        fail(f"{len(checked['issues'])} rule(s) broken", code=1)


@returns_app.command("lgtc")
def lgtc(
    quarter: Annotated[str, typer.Option(help="e.g. 2026-Q3 (July to September)")],
    out: OutOption = None,
    department: Annotated[
        str | None, typer.Option(help="the department responsible, as published")
    ] = None,
    token: TokenOption = None,
) -> None:
    """The Transparency Code 2015 list of contracts over £5,000 in force in the quarter."""
    params = {"quarter": quarter, **({"department": department} if department else {})}
    _write(_get("/returns/transparency-contracts.csv", params, token).content, out)
