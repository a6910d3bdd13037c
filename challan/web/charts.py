"""Server-rendered SVG charts for the dashboard: no JavaScript, no CDN (the portal runs offline).
Colours and sizes are presentation attributes, not style attributes, so the page's CSP holds."""

from __future__ import annotations

from collections.abc import Sequence
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


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
