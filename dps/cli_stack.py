"""`dps up`, `dps down`, `dps demo` and `dps mail`: the embedded stack's lifecycle."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from dps.cli_common import DataDirOption, common_settings, fail, stack_ports, stack_settings
from shared.contracts.common import Role
from shared.settings import SERVICE_PORTS, SERVICES, CommonSettings


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
        # Signed with the secret of the stack's data dir (`--data-dir`), which its
        # services verify with, not the default's. Commissioner, not admin: admin only
        # operates the platform (docs/policy/).
        stacks = settings.model_copy(update={"data_dir": plan.data_dir})
        token = issue_token(
            stacks.signing_secret(), Role.COMMISSIONER, ttl=settings.dev_token_ttl()
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


def demo_command(
    seed: Annotated[int, typer.Option(help="the same seed gives the same county")] = 1,
    scale: Annotated[float, typer.Option(min=0.01, max=2.0, help="1.0: a large county")] = 1.0,
) -> None:
    """Load a synthetic but realistic county into a running stack, through its APIs."""
    load_demo(seed, scale)


def load_demo(seed: int, scale: float) -> None:
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


def down(data_dir: DataDirOption = None) -> None:
    """Stop a stack started by `dps up` in another terminal."""
    from dps.stack import stop_recorded_stack

    stopped = stop_recorded_stack(stack_settings(data_dir))
    typer.echo("stopped." if stopped else "no running stack found.")
