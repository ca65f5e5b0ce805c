"""The role x route policy as data: which roles may call each route, and why.

Each service keeps one table (services/<service>/policy.py) mapping ``(method, path
template)`` to a :class:`Rule`; its routes depend on :func:`guard` of that table, which
looks the matched route up, so the table is what is enforced. A route missing from its
table, and a role missing from a route's rule, are denied (403): new routes and new roles
start with no access. `dps docs` publishes the tables as docs/policy/<service>.md, and
tests/service/test_policy_matrix.py calls every route with every role.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, status

from shared.auth import current_actor
from shared.contracts.common import Role
from shared.unit_of_work import Actor


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call one route.

    ``own``: the path parameter holding a provider id; a provider-role caller must hold that
    id (403 otherwise). ``narrowed``: how the handler narrows what a role sees or touches
    (checked there, and by the tests), written down for the published policy.
    """

    roles: frozenset[Role]
    why: str
    own: str | None = None
    narrowed: str = ""


def rule(*roles: Role, why: str, own: str | None = None, narrowed: str = "") -> Rule:
    return Rule(frozenset(roles), why, own, narrowed)


Policy = Mapping[tuple[str, str], Rule]
"""(HTTP method, path template as routed, e.g. ``/providers/{provider_id}``) -> Rule."""

PUBLIC = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)
"""Paths served without a token: probes, metrics and the API documents (no data)."""


def _walk(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        # FastAPI keeps an included router's routes behind it (effective_candidates).
        nested = getattr(route, "effective_candidates", None)
        if callable(nested):
            yield from _walk(nested())
        else:
            yield route


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app routes, routers included (HEAD left out)."""
    found = {
        (method, str(route.path))
        for route in _walk(app.routes)
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    return sorted(found)


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)


def check(policy: Policy, method: str, path: str, actor: Actor, params: Mapping[str, str]) -> None:
    """Raise 401/403 unless ``actor`` may call ``method path`` under ``policy``."""
    entry = policy.get((method, path))
    if entry is None:  # deny by default: a route nobody wrote a rule for
        raise _forbidden(f"no policy entry for {method} {path}: denied")
    if actor.role == Role.PROVIDER.value and not actor.provider_id:
        # Never read as "every provider": a provider token must name its provider.
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a provider token must carry provider_id",
            headers={"WWW-Authenticate": "Bearer"},
        )
    allowed = {r.value for r in entry.roles}
    if actor.role not in allowed:
        raise _forbidden(
            f"role {actor.role!r} may not {method} {path} ({entry.why}); "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    if (
        entry.own
        and actor.role == Role.PROVIDER.value
        and params.get(entry.own) != actor.provider_id
    ):
        raise _forbidden(f"a provider may {method} {path} only for its own {entry.own}")


def guard(policy: Policy) -> Callable[..., Awaitable[Actor]]:
    """A dependency enforcing ``policy`` for whichever route matched; returns the Actor."""

    async def enforce(request: Request, actor: Actor = Depends(current_actor)) -> Actor:
        route = request.scope.get("route")
        path = str(getattr(route, "path", request.url.path))
        check(policy, request.method, path, actor, request.path_params)
        return actor

    return enforce


def markdown(name: str, source: str, policy: Policy) -> str:
    """The table as published in docs/policy/<name>.md."""
    roles = list(Role)
    lines = [
        f"# Role x route policy: {name}",
        "",
        f"Generated from `{source}` by `dps docs`; the same table is "
        "what the routes enforce (shared/policy.py). A role not ticked is refused (403); "
        "a route not listed is refused to everyone. Every route also answers 401 without "
        "a valid token, and to a provider token without a provider binding.",
        "",
        "| Method | Path | " + " | ".join(r.value for r in roles) + " | Why | Narrowed |",
        "|---|---|" + "---|" * len(roles) + "---|---|",
    ]
    for (method, path), entry in sorted(policy.items(), key=lambda item: (item[0][1], item[0][0])):
        ticks = " | ".join(
            ("own" if entry.own and r is Role.PROVIDER else "yes") if r in entry.roles else ""
            for r in roles
        )
        narrowed = entry.narrowed or ""
        lines.append(f"| {method} | `{path}` | {ticks} | {entry.why} | {narrowed} |")
    lines += [
        "",
        "`own`: a provider only for its own provider id in the path (403 otherwise).",
        "",
    ]
    return "\n".join(lines)
