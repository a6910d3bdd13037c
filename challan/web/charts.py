"""Server-rendered SVG charts for the dashboard (violations; traffic flow per site, which flow.js
fetches again as it changes): no charting script, no CDN (the portal runs offline). Colours and
sizes are presentation attributes, not style attributes, so the page's CSP holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

BAR = "#1f6f4a"
GRID = "#d0d7de"
TEXT = "#24292f"


def bar_chart(items: Sequence[tuple[str, int]], *, title: str, width: int = 400, row: int = 22) -> Markup:
    """Horizontal bars, one per (label, count), largest first as given."""
    label_w, count_w = 130, 50
    plot_w = width - label_w - count_w
    height = max(1, len(items)) * row + 8
    top = max((n for _, n in items), default=0) or 1
    parts = [_open(width, height, title)]
    if not items:
        parts.append(f'<text x="0" y="16" fill="{TEXT}" font-size="13">No violations recorded</text>')
    for i, (label, count) in enumerate(items):
        y = 4 + i * row
        w = round(plot_w * count / top, 1)
        short = label if len(label) <= 18 else label[:17] + "\u2026"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{TEXT}" font-size="12">'
            f"{escape(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row - 7}" fill="{BAR}" rx="2">'
            f"<title>{escape(label)}: {count}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + 15}" fill="{TEXT}" font-size="12">{count:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def day_chart(
    days: Sequence[tuple[date, int]], *, title: str, width: int = 1100, height: int = 220
) -> Markup:
    """Columns per day, oldest on the left, with the axis maximum and a date label every week."""
    left, bottom, top_pad = 40, 24, 10
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    top = max((n for _, n in days), default=0) or 1
    step = plot_w / max(1, len(days))
    base = top_pad + plot_h
    axis = f'text-anchor="end" fill="{TEXT}" font-size="11"'
    parts = [
        _open(width, height, title),
        f'<line x1="{left}" y1="{base}" x2="{width - 6}" y2="{base}" stroke="{GRID}"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" {axis}>{top:,}</text>',
        f'<text x="{left - 6}" y="{base}" {axis}>0</text>',
    ]
    for i, (day, count) in enumerate(days):
        h = round(plot_h * count / top, 1)
        x = round(left + i * step + 1, 1)
        parts.append(
            f'<rect x="{x}" y="{round(top_pad + plot_h - h, 1)}" width="{max(1.0, round(step - 2, 1))}" '
            f'height="{h}" fill="{BAR}"><title>{day:%d %b %Y}: {count}</title></rect>'
        )
        if i % 7 == 0:
            parts.append(f'<text x="{x}" y="{height - 6}" fill="{TEXT}" font-size="11">{day:%d %b}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# Okabe-Ito colours (told apart with the common colour-vision deficiencies), one per vehicle class.
CLASS_COLOURS = {"car": "#0072b2", "motorcycle": "#e69f00", "bus": "#009e73", "truck": "#d55e00"}
SPARE_COLOURS = ("#cc79a7", "#56b4e9", "#8c6d1f", "#6e6e6e", "#000000")


def class_colours(classes: Sequence[str]) -> dict[str, str]:
    """A colour for each class: the usual four always the same, the others in turn."""
    spare = iter(SPARE_COLOURS * (1 + len(classes) // len(SPARE_COLOURS)))
    return {c: CLASS_COLOURS.get(c) or next(spare) for c in classes}


@dataclass(frozen=True)
class Column:
    """One interval of a time series: its axis label (None: no tick), its name in full (the hover
    title and the table's), and the vehicles by class."""

    label: str | None
    name: str
    counts: Mapping[str, int]


def stacked_columns(
    columns: Sequence[Column], classes: Sequence[str], *, title: str, width: int = 1100, height: int = 250
) -> Markup:
    """Columns oldest on the left, each a stack of its classes in the order given, with a legend, the
    axis maximum and the labels the columns carry."""
    left, bottom, top_pad = 40, 24, 30
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    top = max((sum(c.counts.values()) for c in columns), default=0) or 1
    step = plot_w / max(1, len(columns))
    base = top_pad + plot_h
    colours = class_colours(classes)
    axis = f'text-anchor="end" fill="{TEXT}" font-size="11"'
    parts = [
        _open(width, height, title),
        _legend(colours, x=left, y=6),
        f'<line x1="{left}" y1="{base}" x2="{width - 6}" y2="{base}" stroke="{GRID}"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" {axis}>{top:,}</text>',
        f'<text x="{left - 6}" y="{base}" {axis}>0</text>',
    ]
    for i, column in enumerate(columns):
        x, y = round(left + i * step + 1, 1), float(base)
        for kind in classes:
            n = column.counts.get(kind, 0)
            if not n:
                continue
            h = round(plot_h * n / top, 1)
            y = round(y - h, 1)
            parts.append(
                f'<rect class="seg" x="{x}" y="{y}" width="{max(1.0, round(step - 2, 1))}" height="{h}" '
                f'fill="{colours[kind]}"><title>{escape(column.name)}: {escape(kind)} {n:,}</title></rect>'
            )
        if column.label:
            parts.append(
                f'<text x="{x}" y="{height - 6}" fill="{TEXT}" font-size="11">{escape(column.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(
    bands: Sequence[tuple[int, int | None, int]],
    *,
    title: str,
    unit: str = "km/h",
    mark: tuple[float, str] | None = None,
    width: int = 520,
    height: int = 250,
) -> Markup:
    """Adjacent columns, one per band (from, to or None for "and above", count), with each band's
    lower edge under it; `mark` draws a dashed line at a value (the 85th percentile) with its label."""
    left, bottom, top_pad = 40, 24, 26
    plot_w, plot_h = width - left - 36, height - bottom - top_pad
    top = max((n for _, _, n in bands), default=0) or 1
    step = plot_w / max(1, len(bands))
    base = top_pad + plot_h
    axis = f'text-anchor="end" fill="{TEXT}" font-size="11"'
    parts = [
        _open(width, height, title),
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{GRID}"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" {axis}>{top:,}</text>',
        f'<text x="{left - 6}" y="{base}" {axis}>0</text>',
    ]
    every = max(1, -(-len(bands) * 34 // plot_w))  # a lower edge every 34 px or more
    for i, (low, high, count) in enumerate(bands):
        h = round(plot_h * count / top, 1)
        x = round(left + i * step, 1)
        name = f"{low}\u2013{high}" if high is not None else f"{low} and above"
        parts.append(
            f'<rect class="band" x="{x + 1}" y="{round(base - h, 1)}" width="{max(1.0, round(step - 2, 1))}" '
            f'height="{h}" fill="{BAR}"><title>{name} {unit}: {count:,}</title></rect>'
        )
        if i % every == 0:
            parts.append(f'<text x="{x}" y="{height - 6}" fill="{TEXT}" font-size="11">{low}</text>')
    if mark is not None and bands:
        x = round(left + _band_position(bands, mark[0]) * step, 1)
        side = 'text-anchor="end"' if x > width * 0.7 else 'text-anchor="start"'  # the label stays inside
        parts.append(
            f'<line class="mark" x1="{x}" y1="{top_pad - 6}" x2="{x}" y2="{base}" stroke="{TEXT}" '
            f'stroke-dasharray="4 3"/><text x="{x}" y="{top_pad - 9}" {side} fill="{TEXT}" font-size="11">'
            f"{escape(mark[1])}</text>"
        )
    parts.append(f'<text x="{width - 4}" y="{height - 6}" {axis}>{escape(unit)}</text></svg>')
    return Markup("".join(parts))


def _band_position(bands: Sequence[tuple[int, int | None, int]], value: float) -> float:
    """Where a value falls, in bands from the left edge (the open band: its middle)."""
    for i, (low, high, _) in enumerate(bands):
        if high is None:
            return i + 0.5
        if value < high:
            return i + max(0.0, (value - low) / (high - low))
    return float(len(bands))


def _legend(colours: Mapping[str, str], *, x: int, y: int) -> str:
    parts = []
    for kind, colour in colours.items():
        parts.append(
            f'<rect x="{x}" y="{y + 2}" width="11" height="11" fill="{colour}"/>'
            f'<text x="{x + 15}" y="{y + 12}" fill="{TEXT}" font-size="12">{escape(kind)}</text>'
        )
        x += 30 + 7 * len(kind)
    return "".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
