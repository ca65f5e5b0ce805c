"""Operating a running stack: `dps status`, `dps dlq` and `dps audit`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dps.cli_common import (
    DataDirOption,
    ServiceName,
    fail,
    issuer_settings,
    local_token,
    signed_in_operator,
    stack_ports,
    stack_settings,
)
from shared.contracts.common import Role
from shared.ports import SERVICES

dlq_app = typer.Typer(help="Inspect and re-drive dead-lettered messages.", no_args_is_help=True)
audit_app = typer.Typer(
    help="Verify and export the audit trails (auditor role).", no_args_is_help=True
)


def status(data_dir: DataDirOption = None) -> None:
    """Each service's health, consumer lag, outbox backlog, dead letters and workflows;
    exits 1 when any service is down or not ready."""
    from concurrent.futures import ThreadPoolExecutor

    from rich.console import Console
    from rich.table import Table

    settings = issuer_settings(data_dir)
    operator = signed_in_operator(settings)
    table = Table("service", "health", "lag", "outbox", "dead letters", "workflows")
    table.caption = "lag: events not yet applied; dead letters: waiting of all"

    def ask(name: str) -> tuple[str, dict[str, Any] | None]:
        health = operator.health(name)
        try:
            return health, operator.get(name, "/admin/status")
        except Exception:
            return health, None

    # The services are asked all at once; each answers in its own time.
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        answers = list(pool.map(ask, SERVICES))
    unwell: list[str] = []
    for name, (health, figures) in zip(SERVICES, answers, strict=True):
        if health != "ready":
            unwell.append(name)
        if figures is None:
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
    rows = signed_in_operator(settings).get(
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
        row = signed_in_operator(settings).post(
            name.value, f"/admin/dead-letters/{dead_letter_id}/retry"
        )
    except RuntimeError as exc:
        fail(str(exc))
        return
    typer.echo(f"#{row['id']} re-published to {row['topic']}")


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
    token = token or local_token(settings, Role.AUDITOR, "dps-audit")
    headers = {"Authorization": f"Bearer {token}"}
    return {
        name: httpx.AsyncClient(base_url=operator.url(name, ""), headers=headers)
        for name in SERVICES
    }


@audit_app.command("verify")
def audit_verify(token: AuditTokenOption = None) -> None:
    """Check every service's hash chain; exits 1 when one is broken or cannot be read."""
    import asyncio  # here, not at import: `dps status` needs none of it

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
    import asyncio

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
