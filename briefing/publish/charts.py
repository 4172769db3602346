"""Charts for the briefing, drawn as inline SVG by the project itself.

In: plain numbers (label -> count, or per-series counts per day). Out: an SVG string
(``markupsafe.Markup``) ready to drop into a template: no JavaScript, no fonts or images from
anywhere, the same markup on screen and in WeasyPrint. Each chart carries ``role="img"``, an
``aria-label`` and a ``<title>``/``<desc>`` so a screen reader gets the numbers too.

Colours are CSS classes (``bar``, ``series-N``, ``axis``...) styled by ``briefing.css``, so a
dark colour scheme and a user stylesheet can restyle the charts; the few attributes set here are
fallbacks for viewers that ignore the page's CSS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

# Colour-blind-safe palette (Okabe-Ito), used as SVG fallbacks; CSS may override.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
FONT = "DejaVu Sans, sans-serif"


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: a label and one value per day (oldest first)."""

    label: str
    values: tuple[int, ...]


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _truncate(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    items: Sequence[tuple[str, int]],
    title: str,
    *,
    width: int = 320,
    bar_height: int = 14,
    limit: int = 10,
    label_chars: int = 22,
) -> Markup:
    """Horizontal bars, largest first (the caller's order is kept), at most ``limit`` bars."""
    shown = list(items)[:limit]
    summary = ", ".join(f"{label}: {value}" for label, value in shown) or "no data"
    label_width = 132
    gap = 5
    height = max(1, len(shown)) * (bar_height + gap) + gap
    peak = max((value for _label, value in shown), default=0) or 1
    room = width - label_width - 30
    parts = [
        f'<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{_attr(title)}: {_attr(summary)}" font-family="{FONT}" font-size="9">',
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>",
    ]
    if not shown:
        parts.append(f'<text class="label" x="0" y="{bar_height}">No data</text>')
    for row, (label, value) in enumerate(shown):
        y = gap + row * (bar_height + gap)
        length = max(1.0, room * value / peak)
        parts.append(
            f'<text class="label" x="{label_width - 6}" y="{y + bar_height - 3}" '
            f'text-anchor="end" fill="currentColor">{escape(_truncate(label, label_chars))}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}" rx="2" fill="{PALETTE[0]}"/>'
            f'<text class="value" x="{label_width + length + 4:.1f}" y="{y + bar_height - 3}" '
            f'fill="currentColor">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(
    days: Sequence[str],
    series: Sequence[Series],
    title: str,
    *,
    width: int = 660,
    height: int = 170,
) -> Markup:
    """One line per series over ``days`` (labels, oldest first), with a legend underneath."""
    series = list(series)[: len(PALETTE)]
    summary = (
        "; ".join(
            f"{s.label}: "
            + ", ".join(f"{day} {value}" for day, value in zip(days, s.values, strict=False))
            for s in series
        )
        or "no data"
    )
    left, right, top, bottom = 30, 22, 8, 22  # room for the last day label
    legend_rows = (len(series) + 2) // 3
    total_height = height + legend_rows * 14 + 4
    plot_w = width - left - right
    plot_h = height - top - bottom
    peak = max((max(s.values, default=0) for s in series), default=0)
    ceiling = max(1, peak)
    steps = max(1, len(days) - 1)

    def x(index: int) -> float:
        return left + plot_w * index / steps

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    parts = [
        f'<svg class="chart trend-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {total_height}" width="{width}" height="{total_height}" '
        f'aria-label="{_attr(title)}: {_attr(summary)}" font-family="{FONT}" font-size="9">',
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>",
    ]
    # Horizontal grid: 0, half and the peak, whole numbers only.
    ticks = sorted({0, ceiling // 2, ceiling})
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="#ccd3da" stroke-width="0.6"/>'
            f'<text class="label" x="{left - 5}" y="{y(tick) + 3:.1f}" text-anchor="end" '
            f'fill="currentColor">{tick}</text>'
        )
    for index, day in enumerate(days):
        parts.append(
            f'<text class="label" x="{x(index):.1f}" y="{height - 6}" text-anchor="middle" '
            f'fill="currentColor">{escape(day)}</text>'
        )
    for number, line in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = " ".join(
            f"{x(i):.1f},{y(value):.1f}" for i, value in enumerate(line.values[: len(days)])
        )
        parts.append(
            f'<polyline class="series series-{number}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="1.8" stroke-linejoin="round"/>'
        )
        for i, value in enumerate(line.values[: len(days)]):
            parts.append(
                f'<circle class="series-{number}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.2" '
                f'fill="{colour}"/>'
            )
        lx = left + (number % 3) * (plot_w / 3)
        ly = height + 4 + (number // 3) * 14
        parts.append(
            f'<rect class="series-{number}" x="{lx:.1f}" y="{ly}" width="10" height="10" '
            f'fill="{colour}"/><text class="label" x="{lx + 14:.1f}" y="{ly + 9}" '
            f'fill="currentColor">{escape(_truncate(line.label, 34))}</text>'
        )
    if not series:
        parts.append(
            f'<text class="label" x="{left + 6}" y="{top + plot_h / 2:.1f}" '
            f'fill="currentColor">No actor named in the last {len(days)} days</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
