"""`dps import`: onboard a council from its CSV exports (caseload and placements)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from dps.cli_common import DataDirOption, fail, local_token, stack_ports, stack_settings
from shared.contracts.common import Role

import_app = typer.Typer(
    help="Onboard a council: its current caseload (and placements) from CSV exports.",
    no_args_is_help=True,
)
T = TypeVar("T")


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


def _with_progress(
    console: Any, name: str, text: str, run: Callable[[Callable[[int], None]], T]
) -> T:
    """Runs an import with a progress bar over the file's rows (the header not counted)."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"importing {name}", total=max(0, text.count("\n") - 1))
        return run(lambda n: bar.advance(task, n))


def _say_rejections(console: Any, rejected: Sequence[Any]) -> None:
    """One line per rejected row; exit 1 when there is any."""
    for rejection in rejected:
        console.print(
            f"  line {rejection.line}: {'; '.join(rejection.reasons)}",
            highlight=False,
            markup=False,
        )
    if rejected:
        raise typer.Exit(1)


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

    from dps import council_import

    console = Console()
    text = file.read_text(encoding="utf-8-sig")
    if dry_run:
        send = council_import.check_locally
    else:
        settings = stack_settings(data_dir)
        base = url or f"http://127.0.0.1:{stack_ports(settings)['placements']}"
        token = token or local_token(settings, Role.COUNCIL_SYSTEM, "dps-import")
        send = _ingest_sender(f"{base.rstrip('/')}/ehc-events", token)
    started = time.perf_counter()
    try:
        summary = _with_progress(
            console,
            file.name,
            text,
            lambda advance: council_import.import_caseload(text, send, advance),
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
    _say_rejections(console, summary.rejected)


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

    from dps import council_import

    console = Console()
    text = file.read_text(encoding="utf-8-sig")
    settings = stack_settings(data_dir)
    ports = stack_ports(settings)
    token = token or local_token(settings, Role.COMMISSIONER, "dps-import")
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
        summary = _with_progress(
            console,
            file.name,
            text,
            lambda advance: council_import.import_placements(text, post, urns, advance),
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
    _say_rejections(console, summary.rejected)


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
