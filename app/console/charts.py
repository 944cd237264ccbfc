"""Bar charts drawn as SVG on the server (no chart library): profiles per RFM
group, profiles per size. Pure: labelled counts in, bar geometry out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Chart", "bar_chart"]


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    axis_y: float
    largest: int


def bar_chart(
    title: str, items: Sequence[tuple[str, int]], *, width: int = 640, height: int = 260,
    label_space: int = 96,
) -> Chart:  # fmt: skip
    """Vertical bars, one per item, scaled to the largest count (each bar at least a
    pixel high when its count is not 0, so a small group stays visible)."""
    largest = max((c for _, c in items), default=0)
    plot_height = height - label_space - 18
    slot = width / max(1, len(items))
    bars = []
    for n, (label, count) in enumerate(items):
        h = 0.0 if not largest else max(1.0 if count else 0.0, plot_height * count / largest)
        x, y = round(n * slot + slot * 0.15, 2), round(18 + plot_height - h, 2)
        bars.append(Bar(label, count, x, y, round(slot * 0.7, 2), round(h, 2)))
    return Chart(title, width, height, tuple(bars), 18 + plot_height, largest)
