"""Charts as SVG drawn on the server: geometry only, the template draws it (escaped).

A series becomes polyline points in a fixed view box; unknown values (before the
timeline's data) break the line. Axis labels are plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from relayarr.web.dashboard.timeline import Point

WIDTH = 600
HEIGHT = 160
PAD_LEFT = 44
PAD_BOTTOM = 20
PAD_TOP = 8


@dataclass(frozen=True, slots=True)
class Line:
    """One series: CSS class and the polyline pieces (``"x,y x,y ..."`` each)."""

    css: str
    label: str
    pieces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class LineChart:
    title: str
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = False

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= step * factor:
            return step * factor
    return step * 10  # pragma: no cover - the loop above always returns


def _clock(epoch: float, with_day: bool) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%d %H:%M") if with_day else moment.strftime("%H:%M")


def line_chart(
    title: str, series: Sequence[tuple[str, str, Sequence[Point]]], *, with_day: bool = False
) -> LineChart:
    """A chart of ``(css class, label, points)`` series sharing the time axis."""
    plot_w = WIDTH - PAD_LEFT - 4
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    longest = max((len(points) for _, _, points in series), default=0)
    known = [p.value for _, _, points in series for p in points if p.value is not None]
    top = _nice_max(max(known, default=0.0))
    lines: list[Line] = []
    for css, label, points in series:
        pieces: list[str] = []
        current: list[str] = []
        for index, point in enumerate(points):
            if point.value is None:
                if current:
                    pieces.append(" ".join(current))
                current = []
                continue
            x = PAD_LEFT + (plot_w * index / max(longest - 1, 1))
            y = PAD_TOP + plot_h * (1 - point.value / top)
            current.append(f"{x:.1f},{y:.1f}")
        if current:
            pieces.append(" ".join(current))
        # A lone known point would draw nothing: double it so it shows as a dot.
        pieces = [p if " " in p else f"{p} {p}" for p in pieces]
        lines.append(Line(css, label, tuple(pieces)))
    y_ticks = tuple(
        Tick(PAD_LEFT - 6, PAD_TOP + plot_h * (1 - frac) + 4, _number(top * frac))
        for frac in (0.0, 0.5, 1.0)
    )
    x_ticks: list[Tick] = []
    reference = next((points for _, _, points in series if points), ())
    if reference:
        for index in (0, len(reference) // 2, len(reference) - 1):
            x = PAD_LEFT + (plot_w * index / max(longest - 1, 1))
            x_ticks.append(Tick(x, HEIGHT - 4, _clock(reference[index].start, with_day)))
    return LineChart(title, tuple(lines), tuple(x_ticks), y_ticks, empty=not known)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: float
    width: float


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def bar_chart(title: str, values: dict[str, int], *, limit: int = 12) -> BarChart:
    """Horizontal bars, largest first (at most ``limit``)."""
    items = sorted(values.items(), key=lambda item: (-item[1], item[0]))[:limit]
    label_width = 160
    room = WIDTH - label_width - 60
    top = max((value for _, value in items), default=0) or 1
    bars = tuple(
        Bar(label[:24], value, 6 + index * 24, max(room * value / top, 1.0))
        for index, (label, value) in enumerate(items)
    )
    return BarChart(title, bars, WIDTH, max(12 + len(items) * 24, 30), label_width)


__all__ = ["Bar", "BarChart", "Line", "LineChart", "Tick", "bar_chart", "line_chart"]
