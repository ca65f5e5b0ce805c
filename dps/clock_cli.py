"""`dps clock`: the training clock of a stack started with `dps up --training`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from shared import clock

clock_app = typer.Typer(
    help="the training clock (a stack started with `dps up --training`; never production)",
    no_args_is_help=True,
)


@clock_app.command("advance")
def advance(
    duration: Annotated[str, typer.Argument(help="how far: 3d, 2w, 12h, 1d12h")],
    workflow: Annotated[
        str | None,
        typer.Option(
            help="move only this workflow's time (e.g. competition-ID); default: the "
            "services' clock and every running workflow together"
        ),
    ] = None,
) -> None:
    """Move the rehearsal's time forward: statutory deadlines pass in seconds."""
    from dps.cli import fail, stack_settings
    from shared import temporal, training

    settings = stack_settings()
    try:
        step = clock.parse_duration(duration)
        training.require_training(settings.data_dir, production=settings.env == "production")
    except (ValueError, clock.TrainingRefused) as exc:
        fail(str(exc))
        return

    async def run() -> training.Advanced:
        client = await temporal.connect(
            settings.temporal_address, settings.temporal_namespace, settings=settings
        )
        return await training.advance(client, settings.data_dir, step, workflow_id=workflow)

    try:
        result = asyncio.run(run())
    except Exception as exc:  # Temporal unreachable: one line, not a traceback
        fail(f"cannot reach Temporal at {settings.temporal_address}: {exc}")
        return
    what = workflow or "the services' clock"
    typer.echo(f"moved {what} on by {step}; the training clock is {result.offset} ahead")
    typer.echo(f"  workflows moved: {len(result.moved)}")
    for wf_id, why in sorted(result.failed.items()):
        typer.secho(f"  not moved: {wf_id}: {why}", fg=typer.colors.YELLOW, err=True)
    if workflow and result.failed:
        raise typer.Exit(1)


@clock_app.command("show")
def show() -> None:
    """How far the training clock is ahead of the calendar."""
    from dps.cli import fail, stack_settings
    from shared import training

    settings = stack_settings()
    try:
        training.require_training(settings.data_dir, production=settings.env == "production")
    except clock.TrainingRefused as exc:
        fail(str(exc))
    offset = clock.read_offset(settings.data_dir)
    typer.echo(f"training clock: {offset} ahead (now {clock.now_with(offset):%Y-%m-%d %H:%M} UTC)")
