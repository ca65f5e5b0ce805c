"""The `dps` command: start the stack, run a service, migrate, issue tokens, replay.

This module wires the commands together; the stack's lifecycle lives in dps.cli_stack,
operating a running stack in dps.cli_operate and onboarding a council in dps.cli_import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from dps.cli_common import (
    DataDirOption,
    ServiceName,
    common_settings,
    fail,
    issuer_settings,
    stack_ports,
    stack_settings,
)
from shared.contracts.common import Role
from shared.ports import SERVICES

# Heavy modules (the services, FastAPI, Kafka and Temporal clients, pydantic's settings)
# are imported inside the commands that need them: `dps token` answers in well under
# half a second (bench/cli.py measures it, and `dps status`; dps.quick answers the
# `dps` script's `dps token` without typer).

# `import httpx` also imports httpx's own command-line tool (click, rich.syntax, pygments)
# whenever those are installed, as they are here: a fifth of `dps status`. No dps command
# runs httpx's tool, so its import is declined (httpx falls back to a stub `main`).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__all__ = ["app", "common_settings", "main", "stack_ports", "stack_settings"]

# Commands and command groups that live in other modules, by name: (module, attribute,
# whether it is a group). Each is imported and built when it is run or listed, not
# whenever `dps` starts: `dps token` pays for none of them.
ELSEWHERE: dict[str, tuple[str, str, bool]] = {
    "up": ("dps.cli_stack", "up", False),
    "demo": ("dps.cli_stack", "demo_command", False),
    "mail": ("dps.cli_stack", "mail", False),
    "down": ("dps.cli_stack", "down", False),
    "status": ("dps.cli_operate", "status", False),
    "providers": ("services.provider_registry.cli", "providers_app", True),
    "clock": ("dps.clock_cli", "clock_app", True),
    "import": ("dps.cli_import", "import_app", True),
    "dlq": ("dps.cli_operate", "dlq_app", True),
    "audit": ("dps.cli_operate", "audit_app", True),
    "returns": ("dps.cli_returns", "returns_app", True),
}
# The order `dps --help` lists the commands in (commands, then groups, as typer lists
# them); a command of this module missing here comes after these.
ORDER = (
    *("up", "demo", "mail", "down", "service", "dev-certs", "codec-server", "migrate"),
    *("token", "replay", "status", "docs", "makemigration"),
    *("providers", "clock", "import", "dlq", "audit", "returns"),
)


class LazyCommands(MutableMapping[str, Any]):
    """The top-level commands by name, in ORDER; those in ELSEWHERE built on first use.

    Looking a command up builds that one only (its module imported, its signature
    turned into options); listing them all (`dps --help`, completion) builds them all,
    each exactly as `app.command()` / `app.add_typer()` would have."""

    def __init__(self, built: dict[str, Any]) -> None:
        names = [n for n in ORDER if n in built or n in ELSEWHERE]
        self._names = names + [n for n in built if n not in names]
        self._built = dict(built)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in ELSEWHERE:
                raise KeyError(name)
            self._built[name] = _build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        if name not in self._names:
            self._names.append(name)

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        self._names.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)


def _build(name: str) -> Any:
    module, attribute, is_group = ELSEWHERE[name]
    target = getattr(importlib.import_module(module), attribute)
    shelf = typer.Typer()  # registers it as `app` would, with the same defaults
    style: dict[str, Any] = {
        "pretty_exceptions_short": app.pretty_exceptions_short,
        "rich_markup_mode": app.rich_markup_mode,
    }
    if is_group:
        shelf.add_typer(target, name=name)
        return typer.main.get_group_from_info(
            shelf.registered_groups[0], suggest_commands=app.suggest_commands, **style
        )
    shelf.command(name)(target)
    return typer.main.get_command_from_info(shelf.registered_commands[0], **style)


class LazyGroup(TyperGroup):
    def __init__(self, *, commands: dict[str, Any] | None = None, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(commands or {})

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)


app = typer.Typer(
    help="send-dps: the DPS and placement contract platform.",
    no_args_is_help=True,
    cls=LazyGroup,
)


class RoleChoice(StrEnum):
    all = "all"
    api = "api"
    consumer = "consumer"
    relay = "relay"
    worker = "worker"


@app.command()
def service(
    name: ServiceName,
    role: Annotated[
        list[RoleChoice] | None, typer.Option(help="run only these parts (repeatable)")
    ] = None,
) -> None:
    """Run one service as one process (what a container runs)."""
    from dps.services import definition_of
    from shared.runtime import ALL_ROLES, ProcessRole, StartupError, run_service
    from shared.settings import settings_for

    chosen = [r.value for r in role or [RoleChoice.all]]
    roles = ALL_ROLES if "all" in chosen else frozenset(ProcessRole(r) for r in chosen)
    try:
        settings = settings_for(name.value)
    except Exception as exc:
        fail(f"bad configuration: {exc}")
        return
    try:
        run_service(definition_of(name.value), settings, roles)
    except StartupError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass


@app.command("dev-certs")
def dev_certs(
    folder: Annotated[Path, typer.Argument(help="where to write the PEM files")],
    host: Annotated[
        list[str] | None, typer.Option(help="server certificate names (repeatable)")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=825)] = 365,
) -> None:
    """Write a throwaway CA, a server certificate (also server-bundle.pem, a Kafka PEM
    keystore) and a client certificate: docker-compose's Kafka TLS. Not for production."""
    from dps.devcerts import make_pki

    folder.mkdir(parents=True, exist_ok=True)
    pki = make_pki(folder, host or ["localhost", "127.0.0.1"], days=days)
    typer.echo(f"CA {pki.ca}, server {pki.server_bundle}, client {pki.client_cert}")


@app.command("codec-server")
def codec_server(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port; the Temporal UI's codec endpoint")] = 8090,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the payload codec (POST /codec/encode, /codec/decode) for the Temporal UI:
    set its codec endpoint to http://HOST:PORT/codec and pass the user's access token."""
    import uvicorn

    from shared.codec_server import codec_app

    settings = stack_settings(data_dir)
    try:
        app = codec_app(settings)
    except ValueError as exc:
        fail(f"bad configuration: {exc}")
        return
    uvicorn.run(app, host=host, port=port, log_config=None)


@app.command()
def migrate(
    name: Annotated[ServiceName | None, typer.Argument(help="one service; all if omitted")] = None,
) -> None:
    """Apply database migrations (services also apply them when they start)."""
    from dps.services import definition_of
    from shared.db import Database
    from shared.db import migrate as run_migrations
    from shared.settings import settings_for

    for service_name in [name.value] if name else SERVICES:
        settings = settings_for(service_name)
        db = Database(settings.effective_database_url())
        run_migrations(db.url, definition_of(service_name).migrations_dir)
        typer.echo(f"{service_name}: migrated")


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="the role the token carries")],
    provider_id: Annotated[
        str | None, typer.Option(help="for role provider: its provider id")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="who the token names")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print a development bearer token signed with the local secret (the running stack's:
    see --data-dir)."""
    from shared.tokens import issue_token

    settings = issuer_settings(data_dir)
    if settings.production or not settings.dev_tokens_enabled():
        fail(
            "`dps token` is the development issuer and is off here (DPS_ENV=production or "
            "DPS_DEV_TOKENS=false); get a token from the council's identity provider"
        )
    try:
        typer.echo(
            issue_token(
                settings.signing_secret(),
                role,
                subject=subject,
                provider_id=provider_id,
                ttl=settings.dev_token_ttl(),
            )
        )
    except ValueError as exc:
        fail(str(exc))


@app.command()
def replay(
    name: ServiceName,
    since: Annotated[datetime, typer.Option(help="re-publish events created since (UTC)")],
) -> None:
    """Re-publish a service's kept outbox events (after a broker lost them)."""
    import asyncio

    from shared.db import Database
    from shared.outbox import replay as mark_for_replay
    from shared.settings import settings_for

    db = Database(settings_for(name.value).effective_database_url())
    count = asyncio.run(mark_for_replay(db, since if since.tzinfo else since.replace(tzinfo=UTC)))
    typer.echo(f"{name.value}: {count} events queued; the running service's relay publishes them")


@app.command()
def docs(
    out: Annotated[Path, typer.Option(help="where to write")] = Path("docs"),
) -> None:
    """Write the OpenAPI, AsyncAPI and event JSON Schema documents into docs/."""
    from dps.docs import write

    for path in write(out):
        typer.echo(f"wrote {path}")


@app.command(hidden=True)
def makemigration(name: ServiceName, message: Annotated[str, typer.Option("-m")]) -> None:
    """Developers: autogenerate the next Alembic revision of a service from its models."""
    import tempfile

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from dps.services import definition_of
    from shared.db import migrate as run_migrations
    from shared.db import sync_url
    from shared.infra_models import infra_registry

    migrations_dir = definition_of(name.value).migrations_dir
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/scratch.db"
        run_migrations(url, migrations_dir)
        # Infrastructure tables are created by shared.migrations, never autogenerated.
        infra_registry.metadata.create_all(create_engine(url))
        config = Config()
        config.set_main_option("script_location", str(migrations_dir))
        config.set_main_option("sqlalchemy.url", sync_url(url))
        command.revision(config, message=message, autogenerate=True)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(app())
