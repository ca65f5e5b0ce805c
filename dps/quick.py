"""The `dps` script: `dps token` answered without typer, every other command by dps.cli.

Typer and click cost `dps token` more than making the token. This module answers only
a `dps token` that typer would run to its end: `token` followed by its own options
(`--role`, `--provider-id`, `--subject`, `--data-dir`, each once, as `--opt value` or
`--opt=value`, none empty or starting with `-`), a role typer takes, settings read
exactly (shared.issuer_settings) and nothing the command would refuse. It then prints
what typer's command prints. Anything else (help, a mistake, a refusal, production,
shell completion) goes to the typer app, so its output and exit code are typer's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dps.pointer import stack_data_dir
from shared.contracts.common import Role
from shared.issuer_settings import read_issuer_settings
from shared.tokens import issue_token

# `dps token`'s options (dps.cli.token) by the parameter each sets.
TOKEN_OPTIONS = {
    "--role": "role",
    "--provider-id": "provider_id",
    "--subject": "subject",
    "--data-dir": "data_dir",
}
ROLES = frozenset(role.value for role in Role)


def main() -> None:
    token = quick_token(sys.argv[1:])
    if token is None:
        from dps.cli import app

        app()
        return
    print(token, flush=True)  # what typer.echo writes


def quick_token(argv: Sequence[str]) -> str | None:
    """The token `dps ARGV` prints, or None where the typer app must answer."""
    given = _token_options(argv)
    if given is None or given.get("role") not in ROLES:
        return None
    # Click's shell completion (`_DPS_COMPLETE=...`) answers instead of the command.
    if any(name.endswith("_COMPLETE") for name in os.environ):
        return None
    data_dir = given.get("data_dir")
    if data_dir is not None and not _typer_takes_path(data_dir):
        return None
    role = Role(given["role"])
    provider_id = given.get("provider_id")
    if role is Role.PROVIDER and not provider_id:
        return None
    chosen = stack_data_dir(Path(data_dir) if data_dir is not None else None)
    settings = read_issuer_settings(chosen)
    if settings is None or not settings.dev_tokens_enabled():
        return None
    try:
        return issue_token(
            settings.signing_secret(),
            role,
            subject=given.get("subject"),
            provider_id=provider_id,
            ttl=settings.dev_token_ttl(),
        )
    except OSError:
        return None  # the secret's file: typer reports it


def _token_options(argv: Sequence[str]) -> dict[str, str] | None:
    if not argv or argv[0] != "token":
        return None
    given: dict[str, str] = {}
    rest = iter(argv[1:])
    for arg in rest:
        option, equals, value = arg.partition("=")
        parameter = TOKEN_OPTIONS.get(option)
        if parameter is None or parameter in given:
            return None
        if not equals:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        given[parameter] = value
    return given


def _typer_takes_path(value: str) -> bool:
    """Whether typer's Path parameter takes `value` (an existing path must be readable)."""
    return not os.path.exists(value) or os.access(value, os.R_OK)
