"""What every `dps` command shares: failing with one line, the running stack's settings
and ports, local tokens and the operator the admin commands act as."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dps.pointer import recorded_ports, stack_data_dir
from shared.contracts.common import Role
from shared.issuer_settings import IssuerSettings, read_issuer_settings
from shared.ports import SERVICE_PORTS

if TYPE_CHECKING:  # imported when built: `dps token` and `dps status` read no pydantic
    from shared.settings import CommonSettings


class ServiceName(StrEnum):
    provider_registry = "provider_registry"
    procurement = "procurement"
    placements = "placements"
    monitoring = "monitoring"


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def common_settings(data_dir: Path | None = None) -> CommonSettings:
    from shared.settings import CommonSettings

    try:
        return CommonSettings(data_dir=data_dir) if data_dir else CommonSettings()
    except Exception as exc:
        fail(f"bad configuration: {exc}")
        raise


def stack_settings(data_dir: Path | None = None) -> CommonSettings:
    """Settings for a command that talks to a running stack: its data folder is the one
    given, else DPS_DATA_DIR, else the one `dps up` recorded (dps.pointer)."""
    return common_settings(stack_data_dir(data_dir))


def issuer_settings(data_dir: Path | None = None) -> IssuerSettings | CommonSettings:
    """stack_settings for the commands that need only the development issuer's settings
    (`dps token`, `dps status`): read without pydantic where that reads them exactly
    (shared.issuer_settings), else stack_settings itself."""
    chosen = stack_data_dir(data_dir)
    return read_issuer_settings(chosen) or common_settings(chosen)


def stack_ports(settings: CommonSettings | IssuerSettings) -> dict[str, int]:
    return {**SERVICE_PORTS, **recorded_ports(settings.data_dir)}


def local_token(settings: CommonSettings, role: Role, subject: str) -> str:
    """A development token, or in production the client credentials grant's."""
    from shared.client_credentials import SignInError, operator_token

    try:
        return operator_token(settings, role, subject)
    except SignInError as exc:
        fail(str(exc))
        raise


def signed_in_operator(settings: CommonSettings | IssuerSettings) -> Any:
    """Who `dps status` and `dps dlq` act as (dps.operate), signed in or failing clearly."""
    from dps.operate import Operator
    from shared.client_credentials import SignInError

    try:
        return Operator(settings, ports=stack_ports(settings))
    except SignInError as exc:
        fail(str(exc))


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        help="the stack's data folder (default: DPS_DATA_DIR, else the running `dps up`'s)"
    ),
]
