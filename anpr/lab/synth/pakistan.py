"""Pakistani plate layouts, proportions taken from real crops (pk-plates-dev). Each function draws one
flat plate and returns it with its registration; label lines come from what the canvas drew."""

from __future__ import annotations

import numpy as np

from anpr.lab.synth import fonts, numbers
from anpr.lab.synth.paint import (
    BLACK,
    Canvas,
    Drawn,
    border,
    fastener,
    jitter,
    mosque_emblem,
    punjab_emblem,
    round_blob,
)
from anpr.lab.synth.paint import ajrak_band as ajrak

GREEN = (70.0, 150.0, 45.0)
BLUE = (165.0, 80.0, 25.0)
# Share of plates with a printed year whose top-right bolt sits on a year digit, the outline of the
# digit still showing around it (pk-plates-dev notes: LEE-11 and LED-10 are photographed so).
YEAR_BOLT_P = 0.15
YELLOWS = ((25.0, 205.0, 248.0), (30.0, 180.0, 240.0), (35.0, 150.0, 225.0), (50.0, 215.0, 240.0))


def _white(rng: np.random.Generator) -> tuple[float, float, float]:
    """White, cream or weathered grey sheeting: a grey level with a warm or cool tint."""
    level = float(rng.choice([242.0, 230.0, 215.0, 200.0], p=[0.45, 0.25, 0.18, 0.12])) + rng.normal(0, 5)
    warm = float(rng.normal(3, 6))
    return jitter(rng, (level - warm, level, level + warm * 0.4), 1.5)


def _ink(rng: np.random.Generator) -> tuple[float, float, float]:
    return jitter(rng, BLACK, 8)


def _font(rng: np.random.Generator) -> str:
    return str(rng.choice(fonts.faces("plate")))


def _canvas(rng: np.random.Generator, aspect: tuple[float, float], background, height: int = 100) -> Canvas:
    width = round(height * rng.uniform(*aspect))
    return Canvas(width, height, background, rng, grain=2.5)


def _rim(c: Canvas, rng: np.random.Generator, colour) -> None:
    """Embossed rim just inside the edge, present on most Pakistani plates."""
    if rng.random() < 0.75:
        _, h = c.size
        border(
            c, colour, h * rng.uniform(0.015, 0.05), h * rng.uniform(0.012, 0.03), h * rng.uniform(0, 0.08)
        )


def _series_year(
    c: Canvas,
    rng: np.random.Generator,
    font: str,
    colour,
    series: str,
    yr: str | None,
    box: tuple[float, float, float, float],
    line: int,
    align: str = "left",
    number: str = "",
) -> None:
    """Series letters, a dash or dot, the small raised registration year and (one-line plates) the
    number, laid out as one group and condensed together when too wide."""
    x, y, w, h = box
    spacing = rng.uniform(0.08, 0.18)
    sep = str(rng.choice(["-", ".", ""], p=[0.65, 0.2, 0.15])) if yr else ""
    yh = h * rng.uniform(0.45, 0.6)
    gap = h * rng.uniform(0.12, 0.28)
    # (text, cap height, vertical offset, labelled): printed left to right
    runs = [(series, h, 0.0, True)]
    if sep:
        runs.append((sep, h, 0.0, False))
    if yr:
        runs.append((yr, yh, h * rng.uniform(-0.03, 0.08), True))
    if number:
        runs.append((number, h, 0.0, True))
    widths = [c.measure(font, text, height, spacing) for text, height, _, _ in runs]
    gaps = [gap] * (len(runs) - 1) + [0.0]
    if number and len(runs) > 1:
        gaps[-2] = h * rng.uniform(0.3, 0.5)  # a clear space before the number
    k = min(1.0, w / (sum(widths) + sum(gaps)))
    left = x if align == "left" else x + (w - (sum(widths) + sum(gaps)) * k) / 2
    for (text, height, dy, labelled), width, after in zip(runs, widths, gaps, strict=True):
        x1, y1, x2, y2, _ = c.text(
            font, text, (left, y + dy, width * k, height), colour, line if labelled else None, spacing=spacing
        )
        if yr and height == yh and rng.random() < YEAR_BOLT_P:  # the year run
            digit = int(rng.integers(len(yr)))  # the plate's top-right bolt sits on a year digit
            centre = (round(x1 + (x2 - x1) * (digit + 0.5) / len(yr)), round((y1 + y2) / 2))
            kind = str(rng.choice(["rivet", "screw", "hole"]))
            fastener(c, rng, centre, (y2 - y1) * rng.uniform(0.15, 0.28), kind)
        left += (width + after) * k


def _punjab_band(c: Canvas, rng: np.random.Generator, width: float, word: bool = True) -> None:
    _, h = c.size
    c.rect(0, 0, width, h, jitter(rng, GREEN, 14))
    punjab_emblem(c, rng, width * 0.5, h * rng.uniform(0.4, 0.46), min(width * 1.3, h * 0.75))
    if word:
        colour = _ink(rng) if rng.random() < 0.7 else (235.0, 240.0, 240.0)
        c.caption(_caption_font(rng), "PUNJAB", (width * 0.1, h * 0.8, width * 0.8, h * 0.1), colour)


def _caption_font(rng: np.random.Generator) -> str:
    return str(rng.choice(fonts.faces("caption")))


def punjab_legacy_2line(rng: np.random.Generator) -> Drawn:
    c = _canvas(rng, (1.9, 2.15), _white(rng))
    w, h = c.size
    band = w * rng.uniform(0.19, 0.25)
    _punjab_band(c, rng, band, rng.random() < 0.9)
    font, ink = _font(rng), _ink(rng)
    series, number = numbers.punjab_series(rng), numbers.pk_number(rng)
    yr = numbers.year(rng) if rng.random() < 0.9 else None
    left = band + w * rng.uniform(0.03, 0.07)
    field = w - left - w * 0.04
    h1, h2 = h * rng.uniform(0.27, 0.32), h * rng.uniform(0.3, 0.36)
    y1 = h * rng.uniform(0.09, 0.15)
    y2 = min(y1 + h1 + h * rng.uniform(0.1, 0.15), h * 0.93 - h2)
    _series_year(c, rng, font, ink, series, yr, (left, y1, field, h1), 0)
    c.text(
        font,
        number,
        (left, y2, field, h2),
        ink,
        1,
        "left",
        rng.uniform(0.08, 0.18),
        stretch=rng.uniform(1, 1.25),
    )
    _rim(c, rng, ink)
    return Drawn(c, series + number, yr)


def punjab_legacy_1line(rng: np.random.Generator) -> Drawn:
    c = _canvas(rng, (2.8, 4.6), _white(rng), height=84)
    w, h = c.size
    band = h * rng.uniform(0.5, 0.65)
    _punjab_band(c, rng, band)
    font, ink = _font(rng), _ink(rng)
    series, number, yr = numbers.punjab_series(rng), numbers.pk_number(rng), numbers.year(rng)
    left = band + h * 0.15
    field = w - left - h * 0.12
    ch = h * rng.uniform(0.5, 0.6)
    y = (h - ch) / 2 + h * rng.uniform(-0.05, 0.02)
    _series_year(c, rng, font, ink, series, yr, (left, y, field, ch), 0, "center", number)
    _rim(c, rng, ink)
    return Drawn(c, series + number, yr)


def punjab_universal(rng: np.random.Generator) -> Drawn:
    """Universal plate (from 2020): 3 letters + 3 digits for cars, 4 for two-wheelers; no year."""
    bike = rng.random() < 0.3
    c = _canvas(rng, (1.7, 2.1) if bike else (2.0, 4.4), _white(rng), height=92)
    w, h = c.size
    band = h * rng.uniform(0.38, 0.5)
    green = jitter(rng, GREEN, 10)
    c.rect(0, 0, band, h, green)
    round_blob(c, rng, band / 2, h * 0.38, band * 0.32, [(230, 235, 235), (60, 170, 60)])
    c.caption(
        _caption_font(rng), "PUNJAB", (band * 0.14, h * 0.72, band * 0.76, h * 0.1), (235.0, 240.0, 240.0)
    )
    font, ink = _font(rng), _ink(rng)
    series, number = numbers.letters(rng, 3), numbers.digits(rng, 4 if bike else 3, leading_zero=True)
    left, right = band + h * 0.1, w - h * 0.08
    ch = h * rng.uniform(0.42, 0.52)
    y = h * rng.uniform(0.14, 0.22)
    c.text(font, f"{series}{rng.choice([' ', '-'])}{number}", (left, y, right - left, ch), ink, 0)
    if rng.random() < 0.6:
        c.caption(_caption_font(rng), "GOVT OF THE PUNJAB", (left, h * 0.76, right - left, h * 0.11), green)
    border(c, green, h * 0.02, h * 0.025, h * 0.05)
    return Drawn(c, series + number)


def ict(rng: np.random.Generator) -> Drawn:
    c = _canvas(rng, (1.9, 2.2), _white(rng))
    w, h = c.size
    band = w * rng.uniform(0.13, 0.18)
    c.rect(0, 0, band, h, jitter(rng, BLUE, 12))
    light = (235.0, 235.0, 230.0)
    mosque_emblem(c, band / 2, h * 0.4, band * 0.9, light)
    c.caption(_caption_font(rng), "ISLAMABAD", (band * 0.06, h * 0.78, band * 0.88, h * 0.07), light)
    font, ink = _font(rng), _ink(rng)
    series = str(rng.choice(numbers.ICT_SERIES)) if rng.random() < 0.4 else numbers.letters(rng, 3)
    number = numbers.pk_number(rng, 2, 4)
    left, right = band + w * 0.03, w - w * 0.03
    ch = h * rng.uniform(0.4, 0.48)
    y = h * rng.uniform(0.14, 0.2)
    c.text(font, f"{series}-{number}", (left, y, right - left, ch), ink, 0, spacing=rng.uniform(0.06, 0.14))
    c.caption(_caption_font(rng), "ICT-ISLAMABAD", (left, y + ch + h * 0.1, right - left, h * 0.12), ink)
    _rim(c, rng, ink)
    return Drawn(c, series + number)


def sindh_yellow(rng: np.random.Generator) -> Drawn:
    colour = YELLOWS[int(rng.integers(len(YELLOWS)))]
    c = _canvas(rng, (1.9, 2.25), jitter(rng, colour, 10))
    w, h = c.size
    font, ink = _font(rng), _ink(rng)
    series = numbers.sindh_series(rng)
    number = numbers.digits(rng, 4) if len(series) < 3 else numbers.digits(rng, 3, leading_zero=True)
    ch = h * rng.uniform(0.4, 0.48)
    y = h * rng.uniform(0.17, 0.24)
    c.text(font, f"{series}-{number}", (w * 0.05, y, w * 0.9, ch), ink, 0, spacing=rng.uniform(0.05, 0.14))
    word = "KARACHI" if len(series) == 1 and rng.random() < 0.7 else "SINDH"
    c.caption(_caption_font(rng), word, (w * 0.3, y + ch + h * 0.08, w * 0.4, h * 0.1), ink)
    if rng.random() < 0.3:
        round_blob(c, rng, w / 2, h * 0.09, h * 0.06, [(60, 120, 40), (200, 220, 230)])
    if rng.random() < 0.25:  # the small issue year some carry top right: decoration, not a label
        c.caption(_caption_font(rng), f"20{numbers.year(rng)}", (w * 0.82, h * 0.06, w * 0.12, h * 0.07), ink)
    _rim(c, rng, ink)
    return Drawn(c, series + number)


def sindh_white(rng: np.random.Generator) -> Drawn:
    c = _canvas(rng, (1.9, 2.25), _white(rng))
    w, h = c.size
    band = w * rng.uniform(0.12, 0.17)
    ajrak(c, rng, 0, 0, band, h)
    font, ink = _font(rng), _ink(rng)
    series = numbers.sindh_series(rng)
    number = numbers.digits(rng, 4) if len(series) < 3 else numbers.digits(rng, 3, leading_zero=True)
    left, right = band + w * 0.04, w * 0.96
    ch = h * rng.uniform(0.4, 0.48)
    y = h * rng.uniform(0.15, 0.22)
    c.text(font, f"{series}-{number}", (left, y, right - left, ch), ink, 0, spacing=rng.uniform(0.05, 0.14))
    c.caption(_caption_font(rng), "SINDH", (left, y + ch + h * 0.09, right - left, h * 0.11), ink)
    _rim(c, rng, ink)
    return Drawn(c, series + number)


def kpk(rng: np.random.Generator) -> Drawn:
    """Private white, commercial yellow, government green (white letters)."""
    kind = rng.choice(["private", "commercial", "government"], p=[0.6, 0.25, 0.15])
    background = {"private": _white(rng), "commercial": jitter(rng, YELLOWS[0], 10)}.get(
        str(kind), jitter(rng, (60, 120, 30), 10)
    )
    c = _canvas(rng, (1.9, 2.3), background)
    w, h = c.size
    ink = (235.0, 240.0, 240.0) if kind == "government" else _ink(rng)
    font = _font(rng)
    series = str(rng.choice(numbers.KPK_SERIES)) if rng.random() < 0.6 else numbers.letters(rng, 3)
    number = numbers.pk_number(rng, 1, 4)
    word = str(rng.choice(["KPK", "KHYBER PAKHTUNKHWA", "K.P.K"]))
    top = rng.random() < 0.5
    ch = h * rng.uniform(0.4, 0.48)
    y = h * (rng.uniform(0.3, 0.36) if top else rng.uniform(0.14, 0.2))
    left = w * 0.05
    if rng.random() < 0.5:
        round_blob(c, rng, w * 0.12, y + ch / 2, h * 0.14, [(50, 130, 40), (230, 235, 235), (50, 130, 40)])
        left = w * 0.22
    c.text(font, f"{series}{rng.choice(['-', ' '])}{number}", (left, y, w * 0.95 - left, ch), ink, 0)
    cap_y = h * 0.08 if top else y + ch + h * 0.1
    c.caption(_caption_font(rng), word, (w * 0.1, cap_y, w * 0.8, h * 0.11), ink)
    _rim(c, rng, ink)
    return Drawn(c, series + number)


def balochistan(rng: np.random.Generator) -> Drawn:
    c = _canvas(rng, (1.9, 2.3), _white(rng))
    w, h = c.size
    font, ink = _font(rng), _ink(rng)
    series = str(rng.choice(numbers.BALOCHISTAN_SERIES)) if rng.random() < 0.6 else numbers.letters(rng, 2)
    number = numbers.pk_number(rng, 2, 4)
    word_colour = ink if rng.random() < 0.6 else jitter(rng, (60, 120, 30), 10)
    c.caption(_caption_font(rng), "BALOCHISTAN", (w * 0.12, h * 0.08, w * 0.76, h * 0.12), word_colour)
    ch = h * rng.uniform(0.42, 0.5)
    y = h * rng.uniform(0.32, 0.38)
    c.text(font, f"{series}-{number}", (w * 0.05, y, w * 0.9, ch), ink, 0, spacing=rng.uniform(0.05, 0.14))
    _rim(c, rng, ink)
    return Drawn(c, series + number)


def motorcycle(rng: np.random.Generator) -> Drawn:
    """Smaller, squarer two-line plates in the colours of the issuing province."""
    province = rng.choice(["punjab", "sindh", "ict", "plain"], p=[0.5, 0.25, 0.1, 0.15])
    if province == "sindh":
        background = jitter(rng, YELLOWS[int(rng.integers(len(YELLOWS)))], 10)
    elif province == "plain" and rng.random() < 0.4:
        background = jitter(rng, (30, 30, 30), 6)
    else:
        background = _white(rng)
    c = _canvas(rng, (1.35, 1.8), background, height=110)
    w, h = c.size
    dark = float(np.mean(background)) < 100
    ink = (235.0, 238.0, 238.0) if dark else _ink(rng)
    left = w * 0.06
    if province == "punjab":
        band = w * rng.uniform(0.18, 0.24)
        _punjab_band(c, rng, band, rng.random() < 0.6)
        left = band + w * 0.05
    elif province == "ict":
        band = w * rng.uniform(0.14, 0.18)
        c.rect(0, 0, band, h, jitter(rng, BLUE, 12))
        mosque_emblem(c, band / 2, h * 0.45, band * 0.9, (235.0, 235.0, 230.0))
        left = band + w * 0.05
    font = _font(rng)
    series = numbers.punjab_series(rng) if province == "punjab" else numbers.letters(rng, 3)
    yr = numbers.year(rng) if province == "punjab" and rng.random() < 0.85 else None
    number = numbers.pk_number(rng, 2, 4)
    field = w * 0.95 - left
    h1, h2 = h * rng.uniform(0.28, 0.33), h * rng.uniform(0.32, 0.38)
    y1 = h * rng.uniform(0.08, 0.13)
    y2 = min(y1 + h1 + h * rng.uniform(0.08, 0.13), h * (0.8 if province == "sindh" else 0.92) - h2)
    _series_year(c, rng, font, ink, series, yr, (left, y1, field, h1), 0, "center")
    c.text(
        font,
        number,
        (left, y2, field, h2),
        ink,
        1,
        spacing=rng.uniform(0.08, 0.16),
        stretch=rng.uniform(1, 1.2),
    )
    if province == "sindh":
        c.caption(_caption_font(rng), "SINDH", (w * 0.3, h * 0.84, w * 0.4, h * 0.09), ink)
    _rim(c, rng, ink)
    return Drawn(c, series + number, yr)
