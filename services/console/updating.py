"""The "updating" state: after an action whose effect reaches another service through
events (an award making a placement), the page it leads to may be read before those
events have flowed. Rather than show stale data as if it were current, the page says
it is updating and checks again, a few times, then says it may take longer.

The flow:
  1. the form's POST acts, then answers 303 to `updating_url(target, what)`: the target
     page with `?updated=<what>` (one of WAITING);
  2. the target page reads its data as always and decides whether it shows the change
     (`reflected`, its own test, e.g. "the placement exists"); `updating_state(...)`
     gives the banner's state, or None when there is nothing to wait for;
  3. templates/_updating.html (included by base.html) shows a GOV.UK notification
     banner. Without JavaScript it has a "Check again" link (the same page, one attempt
     on); with it, static/console.js follows that link itself after a growing pause
     (fetching the page, not reloading it, and moving to it only once it has the change or
     gave up), so nothing refreshes on a timer the person cannot stop (no meta refresh:
     WCAG 2.2.1, axe's meta-refresh rule). Bounded: after MAX_ATTEMPTS the banner says the
     change may take longer and stops checking: at most MAX_ATTEMPTS requests per action.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import Request

UPDATED = "updated"
ATTEMPT = "attempt"
MAX_ATTEMPTS = 5
# Pause before each next check (seconds), growing: about 15 s in all, past the p99 of an
# event's trip through the outbox, Kafka and the consumer (docs/performance.md).
PAUSES_S = (1, 2, 3, 4, 5)
# What may be awaited, in words for the banner ("... will show the placement ...").
WAITING = {
    "placement": "the placement this award makes",
}


@dataclass(frozen=True)
class Updating:
    what: str
    attempt: int  # checks made so far
    next_url: str  # the same page, one attempt on ("Check again")
    pause_s: int  # how long the script waits before that check
    gave_up: bool  # MAX_ATTEMPTS made: "this may take longer"


def updating_url(target: str, what: str) -> str:
    """`target` (a path, maybe with a query and a #fragment) awaiting `what`."""
    assert what in WAITING, what
    parts = urlsplit(target)
    query = "&".join(filter(None, [parts.query, urlencode({UPDATED: what})]))
    return urlunsplit(("", "", parts.path, query, parts.fragment))


def awaited(request: Request) -> str | None:
    """The change this page was sent to show (None: an ordinary visit)."""
    what = request.query_params.get(UPDATED, "")
    return what if what in WAITING else None


def updating_state(request: Request, reflected: bool) -> Updating | None:
    """The banner's state, or None when the page shows the change (or awaits nothing)."""
    what = awaited(request)
    if what is None or reflected:
        return None
    try:
        attempt = max(0, min(int(request.query_params.get(ATTEMPT, "0")), MAX_ATTEMPTS))
    except ValueError:
        attempt = 0
    query = [(k, v) for k, v in request.query_params.multi_items() if k != ATTEMPT]
    query.append((ATTEMPT, str(attempt + 1)))
    next_url = urlunsplit(("", "", request.url.path, urlencode(query), ""))
    pause = PAUSES_S[min(attempt, len(PAUSES_S) - 1)]
    return Updating(what, attempt, next_url, pause, gave_up=attempt >= MAX_ATTEMPTS)
