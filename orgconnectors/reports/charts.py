"""Charts drawn on the server as SVG: the geometry here, the markup in templates/audit/_chart*.

No script and no chart library: the page is complete as the server sends it, and every chart
has its numbers in a table next to it for people who cannot see it (or want the figures).
"""

from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26
# Okabe–Ito: told apart with every common kind of colour blindness; "other" is the grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER = "#8C8C8C"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Legend:
    label: str
    color: str
    total: int


@dataclass(frozen=True)
class StackedColumns:
    width: int
    height: int
    plot_left: int
    plot_bottom: float
    plot_right: int
    rects: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[Legend]
    total: int
    # The numbers behind the chart, newest day first: (day, [count of each series]).
    table: list[tuple[date, list[int]]]

    @property
    def marks(self) -> SafeString:
        """The inside of the <svg>: grid, labels, one rect per count. Built here rather than in
        a template loop: a month of seven series is hundreds of elements."""
        grid = format_html_join(
            "",
            '<line class="chart__grid" x1="{0}" x2="{1}" y1="{2}" y2="{2}"></line>'
            '<text class="chart__label" x="{3}" y="{2}" text-anchor="end" '
            'dominant-baseline="middle">{4}</text>',
            (
                (self.plot_left, self.plot_right, t.position, self.plot_left - 6, t.label)
                for t in self.y_ticks
            ),
        )
        rects = format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
            ((r.x, r.y, r.width, r.height, r.color, r.title) for r in self.rects),
        )
        days = format_html_join(
            "",
            '<text class="chart__label" x="{}" y="{}" text-anchor="middle">{}</text>',
            ((t.position, self.height - 8, t.label) for t in self.x_ticks),
        )
        return grid + rects + days


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"


def _nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above `value`, so the axis reads in round steps."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def stacked_columns(days: list[date], series: list, *, other_label: str = "") -> StackedColumns:
    """One column per day, each series stacked in it; `series` have .label and .counts."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    per_day = [sum(s.counts[i] for s in series) for i in range(len(days))]
    top = _nice_max(max(per_day, default=0) or 1)
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    colors = [
        OTHER if s.label == other_label else PALETTE[i % len(PALETTE)] for i, s in enumerate(series)
    ]
    rects = []
    for i, day in enumerate(days):
        base = 0
        for s, color in zip(series, colors, strict=True):
            count = s.counts[i]
            if not count:
                continue
            height = plot_h * count / top
            y = TOP + plot_h - plot_h * (base + count) / top
            rects.append(
                Rect(
                    x=round(LEFT + i * slot + (slot - bar) / 2, 2),
                    y=round(y, 2),
                    width=round(bar, 2),
                    height=round(height, 2),
                    color=color,
                    title=f"{_day(day)}: {s.label} {count}",
                )
            )
            base += count
    y_ticks = [
        Tick(round(TOP + plot_h - plot_h * f, 2), f"{round(top * f):,}") for f in (0, 0.5, 1)
    ]
    every = max(1, len(days) // 6)
    x_ticks = [
        Tick(round(LEFT + i * slot + slot / 2, 2), _day(day))
        for i, day in enumerate(days)
        if (len(days) - 1 - i) % every == 0
    ]
    return StackedColumns(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_bottom=TOP + plot_h,
        plot_right=WIDTH - RIGHT,
        rects=rects,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        legend=[Legend(s.label, c, s.total) for s, c in zip(series, colors, strict=True)],
        total=sum(per_day),
        table=[(day, [s.counts[i] for s in series]) for i, day in reversed(list(enumerate(days)))],
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: float
    width: float


@dataclass(frozen=True)
class HorizontalBars:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


def horizontal_bars(rows: list[tuple[str, float, str]], *, maximum: float) -> HorizontalBars:
    """One bar per (label, value, text shown at its end), scaled to `maximum`."""
    label_w, row_h, bar_h = 200, 26, 16
    plot_w = WIDTH - label_w - 70
    bars = [
        Bar(label, value, text, i * row_h + 4, round(plot_w * value / maximum, 2) if maximum else 0)
        for i, (label, value, text) in enumerate(rows)
    ]
    return HorizontalBars(
        width=WIDTH, height=max(len(rows), 1) * row_h + 8, label_width=label_w, bar_height=bar_h,
        bars=bars,
    )  # fmt: skip
