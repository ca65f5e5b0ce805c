"""Bar charts drawn on the server as SVG (no JavaScript), each with the same figures as a
table beside it: the chart is for looking, the table for reading and for screen readers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BAR_HEIGHT = 28
GAP = 12
LABEL_WIDTH = 200  # of a 700-unit-wide drawing
BAR_SPACE = 380


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    text: str  # the value as people read it, e.g. "£12,000.00" or "62%"
    y: int = 0
    width: int = 0


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    height: int
    label_width: int = LABEL_WIDTH


def money(value: Decimal | str | int | None) -> str:
    return f"£{Decimal(value or 0):,.2f}"


def bar_chart(title: str, figures: list[tuple[str, Decimal, str]]) -> Chart:
    """Horizontal bars scaled to the largest figure (a zero or negative figure has none)."""
    largest = max((value for _, value, _ in figures), default=Decimal(0))
    bars = []
    for i, (label, value, text) in enumerate(figures):
        width = int(value * BAR_SPACE / largest) if largest > 0 and value > 0 else 0
        bars.append(Bar(label, value, text, y=i * (BAR_HEIGHT + GAP), width=max(width, 0)))
    return Chart(title, tuple(bars), height=max(len(bars), 1) * (BAR_HEIGHT + GAP))
