"""Charts for the auditor's report, drawn as inline SVG: no scripts, fonts or network.

Each chart carries a <title> and a <desc> (its text alternative) and is followed in the report
by the table of its data. Output is deterministic: the same series give the same bytes.
Every bar is a `<rect class="bar">`, every point of a line a `<circle class="point">`, and
every dated marker a `<line class="marker">`, so that a test can count them.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH = 760
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 34, 46
PANEL_HEIGHT = 170
COLOURS = ("#3b6ea5", "#c0504d", "#8a5a00", "#5b6672")


@dataclass(frozen=True)
class Series:
    """A named run of values, one per category."""

    name: str
    values: Sequence[float]


def _number(value: float) -> str:
    """An axis label: 1,500 / 2.5M / 1.2B."""
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"{value / size:.4g}{suffix}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _ticks(top: float, whole: bool = False) -> list[float]:
    """0 and round steps up to at least `top`; whole-number steps for counts."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw)
    if whole:
        step = max(1, round(step))
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


def _open(title: str, desc: str, height: int) -> list[str]:
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{slug}-t {slug}-d" '
        'font-family="system-ui,sans-serif" font-size="11">',
        f'<title id="{slug}-t">{escape(title)}</title><desc id="{slug}-d">{escape(desc)}</desc>',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]


def _y_axis(top: int, height: int, ticks: list[float], label: str) -> list[str]:
    """Grid lines, tick labels and the rotated axis label of one panel."""
    parts = []
    for tick in ticks:
        y = top + height - height * tick / ticks[-1]
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>'
        )
    middle = top + height / 2
    parts.append(
        f'<text transform="translate(14 {middle:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(label)}</text>"
    )
    return parts


def _x_labels(categories: Sequence[str], x_of: list[float], y: float, label: str) -> list[str]:
    """Category labels (every n-th when crowded) and the axis label under them."""
    every = max(1, math.ceil(len(categories) / 12))
    parts = [
        f'<text x="{x:.1f}" y="{y + 14:.1f}" text-anchor="middle">{escape(c)}</text>'
        for i, (c, x) in enumerate(zip(categories, x_of, strict=True))
        if i % every == 0
    ]
    middle = LEFT + (WIDTH - LEFT - RIGHT) / 2
    parts.append(
        f'<text x="{middle:.1f}" y="{y + 32:.1f}" text-anchor="middle">{escape(label)}</text>'
    )
    return parts


def bar_chart(
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    panels: bool = False,
) -> str:
    """Vertical bars per category: series side by side, or one panel each (own scale)."""
    groups = [[s] for s in series] if panels else [list(series)]
    height = TOP + len(groups) * (PANEL_HEIGHT + 24) + BOTTOM
    parts = _open(title, desc, height)
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    centres = [LEFT + slot * (i + 0.5) for i in range(len(categories))]
    for number, group in enumerate(groups):
        top = TOP + number * (PANEL_HEIGHT + 24) + 10
        values = [v for s in group for v in s.values]
        ticks = _ticks(max(values, default=0), whole=all(float(v).is_integer() for v in values))
        parts += _y_axis(top, PANEL_HEIGHT, ticks, y_label if not panels else group[0].name)
        width = min(slot * 0.8 / len(group), 48)
        for index, one in enumerate(group):
            colour = COLOURS[(number if panels else index) % len(COLOURS)]
            for category, x, value in zip(categories, centres, one.values, strict=True):
                bar = PANEL_HEIGHT * value / ticks[-1]
                left = x - width * len(group) / 2 + index * width
                parts.append(
                    f'<rect class="bar" x="{left:.1f}" y="{top + PANEL_HEIGHT - bar:.1f}" '
                    f'width="{width:.1f}" height="{bar:.1f}" fill="{colour}">'
                    f"<title>{escape(one.name)}, {escape(category)}: "
                    f"{_number(value)}</title></rect>"
                )
        if not panels and len(group) > 1:
            parts += [
                f'<rect x="{WIDTH - RIGHT - 120}" y="{top + 14 * i}" width="10" height="10" '
                f'fill="{COLOURS[i % len(COLOURS)]}"/><text x="{WIDTH - RIGHT - 105}" '
                f'y="{top + 14 * i + 9}">{escape(s.name)}</text>'
                for i, s in enumerate(group)
            ]
    bottom = TOP + len(groups) * (PANEL_HEIGHT + 24) + 10 - 24
    parts += _x_labels(categories, centres, bottom, x_label)
    return "".join(parts) + "</svg>"


def horizontal_bars(
    title: str, desc: str, labels: Sequence[str], values: Sequence[float], *, x_label: str
) -> str:
    """One bar per label, longest first as given; for counts by name."""
    row, label_width = 22, 340
    height = TOP + row * max(len(labels), 1) + BOTTOM
    parts = _open(title, desc, height)
    ticks = _ticks(max(values, default=0), whole=all(float(v).is_integer() for v in values))
    span = WIDTH - label_width - RIGHT - 40
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + row * index
        length = span * value / ticks[-1]
        shown = label if len(label) <= 56 else label[:55] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">{escape(shown)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row - 6}" '
            f'fill="{COLOURS[1]}"><title>{escape(label)}: {_number(value)}</title></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 14}">{_number(value)}</text>'
        )
    axis_y = TOP + row * len(labels) + 4
    parts.append(
        f'<text x="{label_width + span / 2:.1f}" y="{axis_y + 24}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    return "".join(parts) + "</svg>"


def _month_position(day: date, months: Sequence[str]) -> float | None:
    """Where a date falls on a month axis: index of its month plus the share of it elapsed."""
    key = day.strftime("%Y-%m")
    if key not in months:
        return None
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    length = (following - date(day.year, day.month, 1)).days
    return months.index(key) + (day.day - 1) / length


def monthly_line(
    title: str,
    desc: str,
    months: Sequence[str],
    values: Sequence[float],
    markers: Sequence[tuple[date, str]],
    *,
    y_label: str,
) -> str:
    """A line over months (YYYY-MM), with dated vertical markers labelled (e.g. measures)."""
    height = TOP + PANEL_HEIGHT + 60 + BOTTOM
    top = TOP + 40
    parts = _open(title, desc, height)
    ticks = _ticks(max(values, default=0))
    parts += _y_axis(top, PANEL_HEIGHT + 20, ticks, y_label)
    plot = PANEL_HEIGHT + 20
    step = (WIDTH - LEFT - RIGHT) / max(len(months), 1)

    def x_at(position: float) -> float:
        return LEFT + step * (position + 0.5)

    points = [(x_at(i), top + plot - plot * v / ticks[-1]) for i, v in enumerate(values)]
    parts.append(
        '<polyline fill="none" stroke="#3b6ea5" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        + '"/>'
    )
    parts += [
        f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#3b6ea5">'
        f"<title>{escape(m)}: {_number(v)}</title></circle>"
        for (x, y), m, v in zip(points, months, values, strict=True)
    ]
    shown = [(p, d, label) for d, label in markers if (p := _month_position(d, months)) is not None]
    for row, (position, day, label) in enumerate(sorted(shown)):
        x = x_at(position)
        parts.append(
            f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4 - 12 * (row % 3)}" '
            f'y2="{top + plot}" stroke="#c0504d" stroke-dasharray="4 3">'
            f"<title>{escape(label)}, {day.isoformat()}</title></line>"
            f'<text x="{x + 3:.1f}" y="{top - 6 - 12 * (row % 3)}" fill="#c0504d">'
            f"{escape(label)}</text>"
        )
    parts += _x_labels(months, [x_at(i) for i in range(len(months))], top + plot, "month")
    return "".join(parts) + "</svg>"


def lines(
    title: str,
    desc: str,
    months: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str,
    reference: float | None = None,
) -> str:
    """Several lines over months (YYYY-MM), with a legend; `reference` draws a dashed level
    (an index's 100). A missing value (NaN) breaks its line."""
    height = TOP + PANEL_HEIGHT + 60 + BOTTOM
    top = TOP + 40
    parts = _open(title, desc, height)
    finite = [v for s in series for v in s.values if not math.isnan(v)]
    ticks = _ticks(max(finite, default=0))
    plot = PANEL_HEIGHT + 20
    parts += _y_axis(top, plot, ticks, y_label)
    step = (WIDTH - LEFT - RIGHT) / max(len(months), 1)

    def x_at(i: float) -> float:
        return LEFT + step * (i + 0.5)

    def y_at(value: float) -> float:
        return top + plot - plot * value / ticks[-1]

    if reference is not None:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_at(reference):.1f}" '
            f'y2="{y_at(reference):.1f}" stroke="#5b6672" stroke-dasharray="4 3"/>'
        )
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(line.values):
            if math.isnan(value):
                runs.append([])
            else:
                runs[-1].append((x_at(i), y_at(value)))
        parts += [
            f'<polyline class="line" fill="none" stroke="{colour}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            + '"/>'
            for run in runs
            if run
        ]
        x = LEFT + 8 + 150 * number
        parts.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{top - 12}" y2="{top - 12}" stroke="{colour}" '
            f'stroke-width="3"/><text x="{x + 22}" y="{top - 8}">{escape(line.name)}</text>'
        )
    parts += _x_labels(months, [x_at(i) for i in range(len(months))], top + plot, "month")
    return "".join(parts) + "</svg>"
