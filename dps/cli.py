"""The `dps` command: start the stack, run a service, migrate, issue tokens, replay."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dps.clock_cli import clock_app
from dps.pointer import recorded_ports, stack_data_dir
from services.provider_registry.cli import providers_app
from shared.contracts.common import Role
from shared.settings import SERVICE_PORTS, SERVICES, CommonSettings, settings_for

# Heavy modules (the services, FastAPI, Kafka and Temporal clients) are imported inside
# the commands that need them: `dps token` answers in well under half a second.

app = typer.Typer(help="send-dps: the DPS and placement contract platform.", no_args_is_help=True)


class ServiceName(StrEnum):
    provider_registry = "provider_registry"
    procurement = "procurement"
    placements = "placements"
    monitoring = "monitoring"


class RoleChoice(StrEnum):
    all = "all"
    api = "api"
    consumer = "consumer"
    relay = "relay"
    worker = "worker"


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def common_settings(data_dir: Path | None = None) -> CommonSettings:
    try:
        return CommonSettings(data_dir=data_dir) if data_dir else CommonSettings()
    except Exception as exc:
        fail(f"bad configuration: {exc}")
        raise


def stack_settings(data_dir: Path | None = None) -> CommonSettings:
    """Settings for a command that talks to a running stack: its data folder is the one
    given, else DPS_DATA_DIR, else the one `dps up` recorded (dps.pointer)."""
    return common_settings(stack_data_dir(data_dir))


def stack_ports(settings: CommonSettings) -> dict[str, int]:
    return {**SERVICE_PORTS, **recorded_ports(settings.data_dir)}


def _local_token(settings: CommonSettings, role: Role, subject: str) -> str:
    """A development token, or in production the client credentials grant's."""
    from shared.client_credentials import SignInError, operator_token

    try:
        return operator_token(settings, role, subject)
    except SignInError as exc:
        fail(str(exc))
        raise


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        help="the stack's data folder (default: DPS_DATA_DIR, else the running `dps up`'s)"
    ),
]


@app.command()
def up(
    kafka: Annotated[
        str | None, typer.Option(help="use this Kafka instead of starting Tansu")
    ] = None,
    temporal: Annotated[
        str | None, typer.Option(help="use this Temporal instead of the dev server")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where SQLite files and logs go")] = None,
    demo: Annotated[bool, typer.Option(help="load the demo county once everything is up")] = False,
    seed: Annotated[int, typer.Option(help="with --demo: the demo's seed")] = 1,
    max_crashes: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="DPS_MAX_CRASHES",
            help="crashes of one process tolerated within --crash-window before the "
            "whole stack stops; each is restarted with backoff",
        ),
    ] = 5,
    crash_window: Annotated[
        float, typer.Option(min=1, envvar="DPS_CRASH_WINDOW_S", help="seconds")
    ] = 120.0,
    kafka_port: Annotated[int, typer.Option(help="Tansu's port")] = 9092,
    temporal_port: Annotated[int, typer.Option(help="the Temporal dev server's port")] = 7233,
    temporal_ui_port: Annotated[int, typer.Option(help="the Temporal UI's port")] = 8233,
    service_port: Annotated[
        list[str] | None, typer.Option(help="NAME=PORT, e.g. placements=9003 (repeatable)")
    ] = None,
    console_port: Annotated[
        int, typer.Option(help="the officers' console's port (0: do not start it)")
    ] = 8000,
    mail_port: Annotated[
        int,
        typer.Option(
            help="the local mail server keeping e-mails in <data>/mail (0, or DPS_SMTP_HOST "
            "set: not started, monitoring sends through that server instead)"
        ),
    ] = 2525,
    headless_temporal: Annotated[bool, typer.Option(help="no Temporal web UI")] = False,
    time_skipping: Annotated[
        bool, typer.Option(help="let tests fast-forward a workflow's clock")
    ] = False,
    training: Annotated[
        bool,
        typer.Option(
            help="training clock: Temporal with time skipping and `dps clock advance` "
            "(development only; marked on every console page)"
        ),
    ] = False,
) -> None:
    """Start the broker, Temporal and all four services and keep them running: a process
    that dies is restarted; Ctrl-C (or `dps down`) stops everything."""
    from dps.processes import StackError
    from dps.stack import Stack, StackPlan
    from dps.supervision import RestartPolicy

    settings = common_settings()
    chosen_dir = (data_dir or settings.data_dir).resolve()
    plan = StackPlan(
        data_dir=chosen_dir,
        kafka=kafka,
        temporal=temporal,
        kafka_port=kafka_port,
        temporal_port=temporal_port,
        temporal_ui_port=temporal_ui_port,
        service_ports=parse_service_ports(service_port or []),
        headless_temporal=headless_temporal,
        time_skipping=time_skipping or training,
        console_port=console_port,
        mail_port=0 if os.environ.get("DPS_SMTP_HOST") else mail_port,
    )
    stack = Stack(plan)
    try:
        stack.check_not_running()  # before touching the training file of a running stack
    except StackError as exc:
        fail(str(exc))
    plan.extra_env.update(prepare_training(chosen_dir, settings, training))
    typer.echo(f"starting send-dps (data in {plan.data_dir}, logs in {plan.log_dir}) ...")
    try:
        stack.start()
    except StackError as exc:
        stack.stop()
        fail(str(exc))
    print_welcome(plan, settings)
    if training:
        typer.secho(
            "Training: time is simulated. Move it on with `dps clock advance 3d` or the "
            "console's Training clock page (/training).",
            fg=typer.colors.YELLOW,
            bold=True,
        )
    if demo:
        load_demo_beside_supervision(seed)
    supervise(stack, RestartPolicy(max_crashes=max_crashes, window_s=crash_window))


def load_demo_beside_supervision(seed: int) -> None:
    """`dps up --demo`: the demo loads in a thread while the supervisor watches, so a
    process that dies during the load is restarted like any other (the load's calls
    retry); a load that fails says why and leaves the stack running (`dps demo` again)."""
    import threading

    def load() -> None:
        try:
            load_demo(seed, 1.0)
        except typer.Exit:
            typer.echo("the stack keeps running; `dps demo` loads the demo again")

    threading.Thread(target=load, name="demo-load", daemon=True).start()


def prepare_training(data_dir: Path, settings: CommonSettings, training: bool) -> dict[str, str]:
    """`dps up --training`: the services' environment for the training clock; a stack
    started without it leaves no training file behind for `dps clock` to act on."""
    from shared import clock
    from shared import training as training_clock

    if not training:
        (data_dir / clock.TRAINING_FILE).unlink(missing_ok=True)
        return {}
    if settings.env == "production":
        fail("--training: " + clock.training_refused_in_production())
    training_clock.start_training(data_dir)
    return {"DPS_TRAINING": "true"}


def parse_service_ports(pairs: list[str]) -> dict[str, int]:
    from shared.settings import SERVICE_PORTS

    ports = dict(SERVICE_PORTS)
    for pair in pairs:
        name, _, port = pair.partition("=")
        if name not in ports or not port.isdigit():
            fail(f"--service-port {pair!r}: expected NAME=PORT with NAME one of {SERVICES}")
        ports[name] = int(port)
    return ports


def print_welcome(plan: object, settings: CommonSettings) -> None:
    from dps.stack import StackPlan
    from shared.tokens import issue_token

    assert isinstance(plan, StackPlan)
    typer.secho("send-dps is up.", fg=typer.colors.GREEN, bold=True)
    if plan.console_port:
        typer.secho(
            f"  {'console':<18} http://127.0.0.1:{plan.console_port}  (open it in a browser)",
            bold=True,
        )
    for name in SERVICES:
        base = f"http://127.0.0.1:{plan.service_ports[name]}"
        typer.echo(f"  {name:<18} {base}  (API docs {base}/docs, metrics {base}/metrics)")
    if plan.mail_port:
        typer.echo(f"  {'mail':<18} smtp://127.0.0.1:{plan.mail_port}  (what was sent: `dps mail`)")
    typer.echo(f"  {'kafka':<18} {plan.kafka_bootstrap}")
    typer.echo(f"  {'temporal':<18} {plan.temporal_address}")
    if plan.temporal is None and not plan.headless_temporal:
        typer.echo(f"  {'temporal ui':<18} http://127.0.0.1:{plan.temporal_ui_port}")
    if settings.dev_tokens_enabled():
        # Commissioner, not admin: admin only operates the platform (docs/policy/).
        token = issue_token(
            settings.signing_secret(), Role.COMMISSIONER, ttl=settings.dev_token_ttl()
        )
        typer.echo("\nA development token (role commissioner; `dps token --role ROLE` for others):")
        typer.echo(f"  export TOKEN={token}")
        registry = f"http://127.0.0.1:{plan.service_ports['provider_registry']}"
        typer.echo(f'  curl -H "Authorization: Bearer $TOKEN" {registry}/providers/ID')
    typer.echo(
        "\nA process that dies is restarted (this terminal says which and why); "
        "Ctrl-C (or `dps down`) stops everything."
    )


def supervise(stack: object, policy: object) -> None:
    from dps.stack import Stack, Supervisor
    from dps.supervision import RestartPolicy

    assert isinstance(stack, Stack) and isinstance(policy, RestartPolicy)
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    def say(line: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        typer.secho(f"{stamp} {line}", fg=typer.colors.YELLOW, err=True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    supervisor = Supervisor(stack, policy, say)
    supervisor.run(lambda: stopping)
    typer.echo("stopping ...")
    stack.stop()
    typer.echo("stopped.")
    if supervisor.gave_up:
        fail(supervisor.gave_up, code=1)


@app.command("demo")
def demo_command(
    seed: Annotated[int, typer.Option(help="the same seed gives the same county")] = 1,
    scale: Annotated[float, typer.Option(min=0.01, max=2.0, help="1.0: a large county")] = 1.0,
) -> None:
    """Load a synthetic but realistic county into a running stack, through its APIs."""
    load_demo(seed, scale)


def load_demo(seed: int, scale: float) -> None:
    import os

    from dps.demo import DemoAlreadyLoaded, run_demo

    settings = stack_settings()  # the running stack's, even one started with --data-dir
    ports = stack_ports(settings)
    urls = {
        name: os.environ.get(f"DPS_URL_{name.upper()}", f"http://127.0.0.1:{ports[name]}")
        for name in SERVICES
    }
    typer.echo(f"loading the demo county (seed {seed}, scale {scale}) through the APIs ...")
    try:
        summary = run_demo(seed, scale, urls=urls, secret=settings.signing_secret())
    except DemoAlreadyLoaded as exc:
        fail(f"{exc} (use another --seed, or a fresh data directory)")
        return
    except Exception as exc:  # an unreachable service, say: one line, not a traceback
        fail(f"the demo could not load: {exc}")
        return
    typer.echo(
        f"loaded in {summary.elapsed_s:.0f}s: {summary.providers} providers, "
        f"{summary.members} DPS members, {summary.placements} placements "
        f"({summary.active_placements} in force), {summary.open_competitions} open call-offs, "
        f"{summary.reviews_overdue} reviews overdue, {summary.open_alerts} open alerts"
    )
    for year, spend in summary.spend_by_year.items():
        typer.echo(f"  spend {year}: £{spend:,.0f}")


@app.command()
def mail(
    data_dir: DataDirOption = None,
    show: Annotated[
        int, typer.Option(help="print the Nth e-mail of the list (1 = oldest) in full")
    ] = 0,
) -> None:
    """The e-mails the embedded stack's mail server kept (<data>/mail/*.eml), oldest first."""
    from dps.mailserver import kept, mail_dir

    found = kept(mail_dir(stack_settings(data_dir).data_dir))
    if show:
        if not 1 <= show <= len(found):
            fail(f"--show {show}: there are {len(found)} e-mails")
        typer.echo(found[show - 1].path.read_text(errors="replace"))
        return
    if not found:
        typer.echo("No e-mails yet.")
    for number, item in enumerate(found, start=1):
        typer.echo(f"{number:>4}  {item.received}  {item.to:<32}  {item.subject}")
    typer.echo(f"\n{len(found)} e-mail(s); `dps mail --show N` prints one.")


@app.command()
def down(data_dir: DataDirOption = None) -> None:
    """Stop a stack started by `dps up` in another terminal."""
    from dps.stack import stop_recorded_stack

    stopped = stop_recorded_stack(stack_settings(data_dir))
    typer.echo("stopped." if stopped else "no running stack found.")


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

    for service_name in [name.value] if name else SERVICES:
        settings = settings_for(service_name)
        db = Database(settings.effective_database_url())
        from shared.db import migrate as run_migrations

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

    settings = stack_settings(data_dir)
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
    from shared.db import Database
    from shared.outbox import replay as mark_for_replay

    db = Database(settings_for(name.value).effective_database_url())
    count = asyncio.run(mark_for_replay(db, since if since.tzinfo else since.replace(tzinfo=UTC)))
    typer.echo(f"{name.value}: {count} events queued; the running service's relay publishes them")


app.add_typer(providers_app, name="providers")
app.add_typer(clock_app, name="clock")
import_app = typer.Typer(
    help="Onboard a council: its current caseload (and placements) from CSV exports.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
dlq_app = typer.Typer(help="Inspect and re-drive dead-lettered messages.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def _operator(settings: CommonSettings) -> Any:
    """Who `dps status` and `dps dlq` act as (dps.operate), signed in or failing clearly."""
    from dps.operate import Operator
    from shared.client_credentials import SignInError

    try:
        return Operator(settings, ports=stack_ports(settings))
    except SignInError as exc:
        fail(str(exc))


@app.command()
def status(data_dir: DataDirOption = None) -> None:
    """Each service's health, consumer lag, outbox backlog, dead letters and workflows;
    exits 1 when any service is down or not ready."""
    from rich.console import Console
    from rich.table import Table

    settings = stack_settings(data_dir)
    operator = _operator(settings)
    table = Table("service", "health", "lag", "outbox", "dead letters", "workflows")
    table.caption = "lag: events not yet applied; dead letters: waiting of all"
    unwell: list[str] = []
    for name in SERVICES:
        health = operator.health(name)
        if health != "ready":
            unwell.append(name)
        try:
            figures = operator.get(name, "/admin/status")
        except Exception:
            table.add_row(name, health, "-", "-", "-", "-")
            continue
        lag = _total_lag(figures["consumer_lag"])
        table.add_row(
            name,
            health,
            lag,
            str(figures["outbox_backlog"]),
            f"{figures['dead_letters_not_retried']} of {figures['dead_letters']}",
            str(figures["running_workflows"] if figures["running_workflows"] is not None else "-"),
        )
    Console().print(table)
    if unwell:
        fail(f"not ready: {', '.join(unwell)}", code=1)


def _total_lag(per_topic: list[dict[str, Any]]) -> str:
    """Messages not yet applied, summed over the topics the service consumes."""
    if not per_topic:
        return "-"
    known = [t["lag"] for t in per_topic if t["lag"] is not None]
    unknown = len(per_topic) - len(known)
    return f"{sum(known)}" + (f" (+{unknown} topics unknown)" if unknown else "")


@dlq_app.command("list")
def dlq_list(
    name: ServiceName,
    include_retried: Annotated[bool, typer.Option(help="show retried ones too")] = False,
) -> None:
    """List a service's dead letters with the reason each was set aside."""
    settings = stack_settings()
    rows = _operator(settings).get(
        name.value, "/admin/dead-letters", include_retried=include_retried
    )
    if not rows:
        typer.echo("no dead letters.")
    for row in rows:
        typer.echo(
            f"#{row['id']} {row['topic']}[{row['partition']}]@{row['offset']} "
            f"{row['event_type'] or '?'} {row['dead_lettered_at']}\n    reason: {row['reason']}"
        )


@dlq_app.command("retry")
def dlq_retry(name: ServiceName, dead_letter_id: int) -> None:
    """Publish a dead letter's original message to its topic again (after a fix)."""
    try:
        settings = stack_settings()
        row = _operator(settings).post(name.value, f"/admin/dead-letters/{dead_letter_id}/retry")
    except RuntimeError as exc:
        fail(str(exc))
        return
    typer.echo(f"#{row['id']} re-published to {row['topic']}")


def _ingest_sender(url: str, token: str, timeout: float = 60) -> Any:
    """Posts a batch to placements' HTTP ingest and returns its per-event answers."""
    import httpx

    client = httpx.Client(
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/cloudevents-batch+json",
        },
        timeout=timeout,
    )

    def send(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import json

        response = client.post(url, content=json.dumps(events))
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    return send


@import_app.command("caseload")
def import_caseload_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option(help="check every row; send nothing")] = False,
    url: Annotated[
        str | None,
        typer.Option(envvar="DPS_URL_PLACEMENTS", help="placements' base URL (default: local)"),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="DPS_TOKEN", help="a council_system token (default: a local one)"),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="the stack's data folder")] = None,
) -> None:
    """Import the current EHC caseload (CSV, template in docs/integration.md) through
    placements' HTTP ingest; re-importing the same file changes nothing."""
    import time

    from rich.console import Console
    from rich.progress import Progress

    from dps import council_import

    console = Console()
    text = file.read_text(encoding="utf-8-sig")
    if dry_run:
        send = council_import.check_locally
    else:
        settings = stack_settings(data_dir)
        base = url or f"http://127.0.0.1:{stack_ports(settings)['placements']}"
        token = token or _local_token(settings, Role.COUNCIL_SYSTEM, "dps-import")
        send = _ingest_sender(f"{base.rstrip('/')}/ehc-events", token)
    started = time.perf_counter()
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"importing {file.name}", total=max(0, text.count("\n") - 1))
            summary = council_import.import_caseload(
                text, send, progress=lambda n: bar.advance(task, n)
            )
    except (council_import.BadFile, RuntimeError, OSError) as exc:
        fail(str(exc))
        return
    elapsed = time.perf_counter() - started
    verb = "would import" if dry_run else "imported"
    console.print(
        f"{summary.rows} rows in {elapsed:.1f}s: {verb} {summary.accepted}, "
        f"already imported {summary.duplicate}, rejected {len(summary.rejected)}",
        highlight=False,
    )
    for rejection in summary.rejected:
        console.print(
            f"  line {rejection.line}: {'; '.join(rejection.reasons)}",
            highlight=False,
            markup=False,
        )
    if summary.rejected:
        raise typer.Exit(1)


def _register_urns(base: str, token: str) -> dict[str, str]:
    """URN -> provider id of every provider in the register (paged)."""
    import httpx

    urns: dict[str, str] = {}
    offset = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while True:
            page = client.get(f"{base}/providers", params={"limit": 200, "offset": offset})
            page.raise_for_status()
            body = page.json()
            for hit in body["items"]:
                urns[str(hit["provider"]["urn"])] = hit["provider"]["provider_id"]
            offset += len(body["items"])
            if not body["items"] or offset >= body["total"]:
                return urns


def _urns_for(text: str, registry: str, token: str, dry_run: bool) -> dict[str, str]:
    """The register's URNs; a dry run without a reachable register checks the rest."""
    import httpx

    try:
        return _register_urns(registry, token)
    except httpx.HTTPError:
        if not dry_run:
            raise
    from dps.council_import import read_placement_rows

    typer.secho("register unreachable: provider URNs not checked", fg=typer.colors.YELLOW, err=True)
    return {row["provider_urn"]: f"urn-{row['provider_urn']}" for row in read_placement_rows(text)}


def _placement_poster(url: str, token: str) -> Any:
    import httpx

    client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def post(_key: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = client.post(url, json=body)
        if response.status_code >= 500:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
        return response.status_code, response.json()

    return post


@import_app.command("placements")
def import_placements_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option(help="check every row; record nothing")] = False,
    url: Annotated[
        str | None,
        typer.Option(envvar="DPS_URL_PLACEMENTS", help="placements' base URL (default: local)"),
    ] = None,
    registry_url: Annotated[
        str | None,
        typer.Option(envvar="DPS_URL_PROVIDER_REGISTRY", help="the register's base URL (for URNs)"),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="DPS_TOKEN", help="a commissioner token (default: a local admin one)"),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record the placements a council already holds (CSV, template in
    docs/integration.md) through placements' import API; a re-import records nothing
    twice."""
    import time

    import httpx
    from rich.console import Console
    from rich.progress import Progress

    from dps import council_import

    console = Console()
    text = file.read_text(encoding="utf-8-sig")
    settings = stack_settings(data_dir)
    ports = stack_ports(settings)
    token = token or _local_token(settings, Role.COMMISSIONER, "dps-import")
    registry = registry_url or f"http://127.0.0.1:{ports['provider_registry']}"
    started = time.perf_counter()
    try:
        needs_urns = "provider_urn" in text.partition("\n")[0].lower()
        urns = _urns_for(text, registry.rstrip("/"), token, dry_run) if needs_urns else {}
        if dry_run:
            post = council_import.check_placement_locally
        else:
            base = url or f"http://127.0.0.1:{ports['placements']}"
            post = _placement_poster(f"{base.rstrip('/')}/placements/import", token)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"importing {file.name}", total=max(0, text.count("\n") - 1))
            summary = council_import.import_placements(
                text, post, urns, progress=lambda n: bar.advance(task, n)
            )
    except (council_import.BadFile, RuntimeError, OSError, httpx.HTTPError) as exc:
        fail(str(exc))
        return
    verb = "would record" if dry_run else "recorded"
    console.print(
        f"{summary.rows} rows in {time.perf_counter() - started:.1f}s: {verb} "
        f"{summary.imported}, already imported {summary.already}, "
        f"rejected {len(summary.rejected)}",
        highlight=False,
    )
    for rejection in summary.rejected:
        console.print(
            f"  line {rejection.line}: {'; '.join(rejection.reasons)}",
            highlight=False,
            markup=False,
        )
    if summary.rejected:
        raise typer.Exit(1)


@import_app.command("example-placements")
def example_placements_command(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="CSV file to write")],
    rows: Annotated[int, typer.Option(min=1, max=50_000)] = 200,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """Write a synthetic export of existing placements in the template's shape."""
    from dps.council_import import example_placements

    out.write_text(example_placements(rows, seed))
    typer.echo(f"wrote {rows} rows to {out}")


@import_app.command("example-caseload")
def example_caseload_command(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="CSV file to write")],
    rows: Annotated[int, typer.Option(min=1, max=200_000)] = 1000,
    seed: Annotated[int, typer.Option()] = 1,
    bad_every: Annotated[int | None, typer.Option(min=2, help="make every Nth row bad")] = None,
) -> None:
    """Write a synthetic caseload export in the template's shape (no real child)."""
    from dps.council_import import example_caseload

    out.write_text(example_caseload(rows, seed, bad_every))
    typer.echo(f"wrote {rows} rows to {out}")


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

    from dps.services import definition_of
    from shared.db import migrate as run_migrations
    from shared.db import sync_url

    migrations_dir = definition_of(name.value).migrations_dir
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/scratch.db"
        run_migrations(url, migrations_dir)
        # Infrastructure tables are created by shared.migrations, never autogenerated.
        from sqlalchemy import create_engine

        from shared.infra_models import infra_registry

        infra_registry.metadata.create_all(create_engine(url))
        config = Config()
        config.set_main_option("script_location", str(migrations_dir))
        config.set_main_option("sqlalchemy.url", sync_url(url))
        command.revision(config, message=message, autogenerate=True)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(app())


audit_app = typer.Typer(
    help="Verify and export the audit trails (auditor role).", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
AuditTokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="DPS_AUDIT_TOKEN",
        help="an auditor's bearer token (default: one signed with this installation's key)",
    ),
]


def _audit_clients(token: str | None) -> dict[str, Any]:
    import httpx

    from dps.operate import Operator

    settings = stack_settings()
    operator = Operator(settings, ports=stack_ports(settings))
    token = token or _local_token(settings, Role.AUDITOR, "dps-audit")
    headers = {"Authorization": f"Bearer {token}"}
    return {
        name: httpx.AsyncClient(base_url=operator.url(name, ""), headers=headers)
        for name in SERVICES
    }


@audit_app.command("verify")
def audit_verify(token: AuditTokenOption = None) -> None:
    """Check every service's hash chain; exits 1 when one is broken or cannot be read."""
    from dps.audit_trail import verify_all

    async def run() -> dict[str, dict[str, Any]]:
        clients = _audit_clients(token)
        try:
            return await verify_all(clients)
        finally:
            for client in clients.values():
                await client.aclose()

    broken = []
    for name, verdict in asyncio.run(run()).items():
        if verdict.get("intact"):
            typer.echo(f"{name}: intact, {verdict['rows']} rows, head {verdict['head_hash']}")
            continue
        broken.append(name)
        problems = verdict.get("problems") or [{"problem": verdict.get("error")}]
        typer.echo(f"{name}: BROKEN: " + "; ".join(str(p) for p in problems[:5]))
    if broken:
        fail(f"audit chain not intact: {', '.join(broken)}", code=1)


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option(help="folder to write audit-<service>.<format> into")],
    format: Annotated[ExportFormat, typer.Option()] = ExportFormat.jsonl,
    subject: Annotated[str | None, typer.Option(help="only this person's actions")] = None,
    child_ref: Annotated[str | None, typer.Option(help="only this child's records")] = None,
    since: Annotated[str | None, typer.Option(help="from this day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="to this day, YYYY-MM-DD")] = None,
    token: AuditTokenOption = None,
) -> None:
    """Export every service's audit trail (filtered) to one file per service."""
    from dps.audit_trail import export_one

    wanted = {"subject": subject, "child_ref": child_ref, "since": since, "until": until}
    filters = {k: v for k, v in wanted.items() if v}
    out.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        clients = _audit_clients(token)
        try:
            for name, client in clients.items():
                path = out / f"audit-{name}.{format.value}"
                rows = await export_one(client, path, format.value, filters)
                typer.echo(f"{name}: {rows} rows -> {path}")
        finally:
            for client in clients.values():
                await client.aclose()

    try:
        asyncio.run(run())
    except Exception as exc:
        fail(f"export failed: {exc}")
