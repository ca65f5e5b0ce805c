"""`dps providers ...`: the provider register's bulk operations.

Only the command line lives here, with its imports inside the commands, so that `dps`
starts fast whatever it is asked (`dps token` in under half a second); the import itself
is services.provider_registry.gias_import.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

providers_app = typer.Typer(help="The provider register: bulk operations.", no_args_is_help=True)


@providers_app.callback()
def providers() -> None:
    """The provider register: bulk operations."""


@providers_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import a GIAS establishment extract (CSV); re-importing the same file changes nothing."""
    from rich.console import Console

    from services.provider_registry.gias_import import _run_import, print_summary

    console = Console()
    text = file.read_text(encoding="utf-8-sig")
    summary = asyncio.run(_run_import(file.name, text, console))
    print_summary(summary, console)


@providers_app.command("example-extract")
def example_extract_command(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="CSV file to write")],
    rows: Annotated[int, typer.Option(min=1, max=100_000)] = 300,
    seed: Annotated[int, typer.Option()] = 1,
    bad_every: Annotated[int | None, typer.Option(min=2, help="make every Nth row bad")] = None,
) -> None:
    """Write a synthetic extract in the GIAS shape, to try `dps providers import` with."""
    from services.provider_registry import gias

    out.write_text(gias.write_extract_csv(gias.generate_extract(rows, seed, bad_every)))
    typer.echo(f"wrote {rows} rows to {out}")


def __getattr__(name: str) -> Any:
    # `from services.provider_registry.cli import import_extract` keeps working.
    if name.startswith("__"):  # the import machinery asks for __path__ and the like
        raise AttributeError(name)
    from services.provider_registry import gias_import

    return getattr(gias_import, name)
