"""What the soak checks at the end, on plain data (unit-tested on synthetic cases).

Each event the soak caused is known by its id, its key (the Kafka key: a child reference
or a provider id) and its place in that key's sequence (the order the sender or the
producing service's outbox wrote it). Each consuming service's inbox says when it applied
an event. From both:

- lost: an event a consumer should have applied and has not;
- doubled: an event applied more than once, or an effect counted more than once (e.g.
  two needs for one child);
- reordered: an event of a key applied strictly before an earlier event of the same key.
  The inbox stamps one time per applied batch, so two events of one batch tie; a tie is
  not a reordering (a batch is applied in record order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Expected:
    """One event a consumer must apply once, in its key's order."""

    event_id: str
    key: str
    seq: int  # position in the key's sequence (any increasing numbers)


@dataclass
class Verdict:
    expected: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    reordered: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.doubled or self.reordered)

    def __iadd__(self, other: Verdict) -> Verdict:
        self.expected += other.expected
        self.lost += other.lost
        self.doubled += other.doubled
        self.reordered += other.reordered
        return self


def check_applied(expected: Iterable[Expected], applied: Iterable[tuple[str, datetime]]) -> Verdict:
    """`applied`: (event id, applied at) per inbox row of one consumer (several rows for
    one id would be a double application)."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for event_id, at in applied:
        times[event_id].append(at)
    verdict = Verdict()
    by_key: dict[str, list[Expected]] = defaultdict(list)
    for event in expected:
        verdict.expected += 1
        by_key[event.key].append(event)
        seen = times.get(event.event_id, [])
        if not seen:
            verdict.lost.append(event.event_id)
        elif len(seen) > 1:
            verdict.doubled.append(event.event_id)
    for events in by_key.values():
        latest: datetime | None = None  # latest first application among earlier events
        for event in sorted(events, key=lambda e: e.seq):
            applications = times.get(event.event_id)
            if not applications:
                continue
            first = min(applications)
            if latest is not None and first < latest:
                verdict.reordered.append(event.event_id)
            latest = first if latest is None else max(latest, first)
    return verdict


def check_counts(counts: Mapping[str, int], keys: Sequence[str], *, once: bool = True) -> Verdict:
    """An effect each key must have exactly once (e.g. one need per child): a missing
    one is lost, more than one is doubled."""
    verdict = Verdict(expected=len(keys))
    for key in keys:
        n = counts.get(key, 0)
        if n == 0:
            verdict.lost.append(key)
        elif n > 1 and once:
            verdict.doubled.append(key)
    return verdict
