"""US plate designs the first generator lacked (issue #28): the state's name and a slogan above and
below the registration in small type, stickers, stacked small characters beside the number, vanity
plates, embossed or flat, dark-on-light or light-on-dark, and a dealer's frame round the plate.

Everything printed here except the registration is what the reader must learn to ignore, so only the
registration is drawn with a label line; the rest goes through `Canvas.caption` or unlabelled runs.
These designs are rendered 60-130 px wide (anpr.lab.synth.render), the size unseen US plates come in.
"""

from __future__ import annotations

import numpy as np

from anpr.lab.synth import fonts, numbers
from anpr.lab.synth.paint import BLACK, Canvas, Colour, Drawn, border, jitter, state_emblem

# (state name as printed, a slogan or web address its plates carry); real ones, as data.
STATE_LINES = (
    ("California", "dmv.ca.gov"), ("TEXAS", "The Lone Star State"), ("NEW YORK", "Empire State"),
    ("New Hampshire", "Live Free or Die"), ("Illinois", "Land of Lincoln"), ("Florida", "Sunshine State"),
    ("ARIZONA", "Grand Canyon State"), ("WASHINGTON", "Evergreen State"), ("MISSOURI", "Show-Me State"),
    ("MICHIGAN", "Pure Michigan"), ("OHIO", "Birthplace of Aviation"), ("Pennsylvania", "visitPA.com"),
    ("NEW JERSEY", "Garden State"), ("Georgia", "In God We Trust"), ("Virginia", "Virginia is for Lovers"),
    ("COLORADO", "COLORFUL COLORADO"), ("NEVADA", "The Silver State"), ("OREGON", "Pacific Wonderland"),
    ("Minnesota", "10,000 lakes"), ("WISCONSIN", "America's Dairyland"), ("IDAHO", "Famous Potatoes"),
    ("MAINE", "Vacationland"), ("MONTANA", "Big Sky Country"), ("Massachusetts", "The Spirit of America"),
    ("TENNESSEE", "Volunteer State"), ("North Carolina", "First in Flight"), ("ALASKA", "The Last Frontier"),
    ("Arkansas", "The Natural State"), ("Kentucky", "Unbridled Spirit"), ("UTAH", "Life Elevated"),
    ("INDIANA", "Crossroads of America"), ("Delaware", "The First State"),
)  # fmt: skip
# What dealers and owners print on frames: read into the plate as an extra letter when it is close.
FRAME_WORDS = (
    "THE HYUNDAI STORE", "SUNTRUP", "AUTONATION", "CARMAX", "HONDA OF SEATTLE", "TOYOTA OF DALLAS",
    "I'D RATHER BE FISHING", "GO BLUE", "PROUD GRANDPARENT", "MIAMI", "DTB 760-4221", "FORD LINCOLN",
    "BMW OF HOUSTON", "www.drivetime.com", "ED MORSE CHEVROLET", "UNIVERSITY OF TEXAS",
)  # fmt: skip
STACKED = ("DV", "TR", "MC", "AM", "PH", "DP", "12", "07", "SV", "HC", "4X", "XP")  # never labelled
EMBOSSED_P = 0.5  # raised characters (older and most states' plates) against flat printed ones
DARK_P = 0.2  # light characters on a dark plate (black, navy, green, maroon)
FRAME_P = 0.55
STICKER_P = 0.7  # registration stickers in the top corners
SIDE_STICKER_P = 0.12  # a sticker with a character on it just left of the number (an extra lead letter)
EMBLEM_P = 0.2  # a state graphic in the registration's gap (Missouri, Florida)
LIGHTS: tuple[Colour, ...] = ((238.0, 240.0, 240.0), (225.0, 232.0, 236.0), (200.0, 228.0, 238.0))
DARKS: tuple[Colour, ...] = ((30.0, 30.0, 32.0), (90.0, 40.0, 20.0), (40.0, 70.0, 25.0), (35.0, 25.0, 95.0))
LIGHT_INKS: tuple[Colour, ...] = ((240.0, 240.0, 240.0), (40.0, 200.0, 240.0), (150.0, 220.0, 240.0))
DARK_INKS: tuple[Colour, ...] = ((110.0, 40.0, 25.0), BLACK, (40.0, 30.0, 120.0), (50.0, 90.0, 20.0))
ACCENTS: tuple[Colour, ...] = (
    (40.0, 40.0, 200.0),
    (140.0, 60.0, 20.0),
    (30.0, 30.0, 30.0),
    (40.0, 110.0, 40.0),
)
STICKERS: tuple[Colour, ...] = ((40, 40, 210), (40, 200, 240), (60, 170, 60), (200, 120, 40), (30, 140, 250))


def state_plate(rng: np.random.Generator) -> Drawn:
    """A state-issued serial (lookalike pairs and doubles at numbers' shares) on a state design."""
    return _design(rng, numbers.us_serial(rng))


def vanity_plate(rng: np.random.Generator) -> Drawn:
    """A personalised plate: letters only (two in three) or letters and digits, 5-8 characters."""
    return _design(rng, numbers.us_vanity(rng, mixed=rng.random() < 0.35))


def stacked_plate(rng: np.random.Generator) -> Drawn:
    """Two small characters stacked beside the number (a class code such as DV or TR): printed, but
    no part of the registration as the benchmark labels it."""
    text = numbers.us_serial(rng) if rng.random() < 0.7 else numbers.us_vanity(rng)
    return _design(rng, text, stacked=str(rng.choice(STACKED)))


def _face(rng: np.random.Generator, role: str) -> str:
    return str(rng.choice(fonts.faces(role)))


def _pick(rng: np.random.Generator, colours: tuple[Colour, ...], amount: float = 10.0) -> Colour:
    return jitter(rng, colours[int(rng.integers(len(colours)))], amount)


def _design(rng: np.random.Generator, printed: str, stacked: str | None = None) -> Drawn:
    dark = rng.random() < DARK_P
    background = _pick(rng, DARKS if dark else LIGHTS, 8)
    c = Canvas(round(100 * rng.uniform(1.95, 2.08)), 100, background, rng, grain=3.0)
    w, h = c.size
    if not dark and rng.random() < 0.5:  # a pale sky fading down, as many state designs have
        c.gradient(jitter(rng, (235, 225, 215), 12), jitter(rng, background, 4))
    ink = _pick(rng, LIGHT_INKS if dark else DARK_INKS)
    accent = ink if dark or rng.random() < 0.3 else _pick(rng, ACCENTS, 15)
    _state_and_slogan(c, rng, accent)
    if rng.random() < STICKER_P:
        _stickers(c, rng)
    left = w * rng.uniform(0.05, 0.08)
    if rng.random() < SIDE_STICKER_P:
        _sticker(c, rng, left, h * 0.3, w * 0.06, h * 0.36, str(rng.choice(list("ABCDEFGHKMPRT0123456789"))))
        left += w * 0.08
    if stacked:
        left = _stacked(c, rng, stacked, left, ink)
    right = w * rng.uniform(0.92, 0.95)
    _registration(
        c,
        rng,
        printed,
        (left, h * rng.uniform(0.25, 0.31), right - left, h * rng.uniform(0.44, 0.52)),
        ink,
        background,
    )
    if rng.random() < 0.6:  # the pressed rim
        border(c, jitter(rng, ink, 20), h * 0.02, h * rng.uniform(0.015, 0.03), h * 0.08)
    label = "".join(ch for ch in printed if ch.isalnum())
    if rng.random() < FRAME_P:
        framed, plate = _framed(c, rng)
        return Drawn(framed, label, plate=plate)
    return Drawn(c, label)


def _state_and_slogan(c: Canvas, rng: np.random.Generator, colour: Colour) -> None:
    """The state's name in display type at the top (sometimes the bottom), the slogan small opposite."""
    w, h = c.size
    state, slogan = STATE_LINES[int(rng.integers(len(STATE_LINES)))]
    if rng.random() < 0.3:
        state = state.upper()
    face = _face(rng, "serif" if state != state.upper() and rng.random() < 0.7 else "caption")
    on_top = rng.random() < 0.8
    size = h * rng.uniform(0.12, 0.2)
    top, bottom = h * rng.uniform(0.04, 0.07), h * rng.uniform(0.82, 0.86)
    width = w * rng.uniform(0.35, 0.7)
    c.caption(face, state, ((w - width) / 2, top if on_top else bottom, width, size), colour)
    if rng.random() < 0.85:
        size = h * rng.uniform(0.07, 0.1)
        width = w * rng.uniform(0.4, 0.75)
        y = bottom + h * 0.02 if on_top else top + h * 0.03
        c.caption(_face(rng, "caption"), slogan, ((w - width) / 2, y, width, size), jitter(rng, colour, 20))


def _sticker(c: Canvas, rng: np.random.Generator, x: float, y: float, w: float, h: float, text: str) -> None:
    paper = jitter(rng, STICKERS[int(rng.integers(len(STICKERS)))], 20)
    c.rect(x, y, x + w, y + h, paper)
    ink = (245.0, 245.0, 245.0) if sum(paper) < 330 else BLACK
    c.caption(_face(rng, "caption"), text, (x + w * 0.12, y + h * 0.15, w * 0.76, h * 0.7), ink)


def _stickers(c: Canvas, rng: np.random.Generator) -> None:
    """Month and year stickers in one or both top corners, small digits on them."""
    w, h = c.size
    corners = [0.03, 0.87] if rng.random() < 0.4 else [float(rng.choice([0.03, 0.87]))]
    for fx in corners:
        text = str(
            rng.choice(
                [
                    str(rng.integers(1, 13)),
                    f"{rng.integers(2010, 2027)}",
                    f"{rng.integers(10, 27)}",
                    "MAR",
                    "JUN",
                    "OCT",
                ]
            )
        )
        _sticker(
            c,
            rng,
            w * fx,
            h * rng.uniform(0.04, 0.08),
            w * rng.uniform(0.09, 0.12),
            h * rng.uniform(0.13, 0.19),
            text,
        )


def _stacked(c: Canvas, rng: np.random.Generator, chars: str, left: float, ink: Colour) -> float:
    """Two small characters one above the other at `left`; returns where the number may start."""
    _, h = c.size
    size = h * rng.uniform(0.17, 0.22)
    face = _face(rng, "condensed")
    width = Canvas.measure(face, chars[0], size) * 1.3
    for k, char in enumerate(chars):
        c.text(face, char, (left, h * 0.3 + k * size * 1.3, width, size), ink)
    return left + width + h * 0.05


def _registration(
    c: Canvas,
    rng: np.random.Generator,
    printed: str,
    box: tuple[float, float, float, float],
    ink: Colour,
    ground: Colour,
) -> None:
    """The labelled registration in a narrow face, embossed (a shadow and a lit edge on the
    sheeting beside each stroke) or flat."""
    face = _face(rng, "condensed")
    spacing = rng.uniform(0.06, 0.16)
    stretch = rng.uniform(0.9, 1.15)
    if " " in printed and rng.random() < EMBLEM_P:
        printed = printed.replace(" ", "*", 1)
    x, y, w, h = box
    if rng.random() < EMBOSSED_P:
        d = h * rng.uniform(0.025, 0.05)
        b, g, r = ground
        shade: Colour = (b * 0.55, g * 0.55, r * 0.55)
        lit: Colour = (min(255.0, b + 45), min(255.0, g + 45), min(255.0, r + 45))
        for colour, off in ((shade, d), (lit, -0.6 * d)):
            c.text(face, printed, (x + off, y + off, w, h), colour, spacing=spacing, stretch=stretch)
    _, _, _, _, marks = c.text(face, printed, box, ink, 0, spacing=spacing, stretch=stretch)
    for a, b in marks:
        state_emblem(c, rng, (a + b) / 2, y + h / 2, (b - a) * 1.1, h * rng.uniform(0.45, 0.8))


def _framed(c: Canvas, rng: np.random.Generator) -> tuple[Canvas, tuple[float, float, float, float]]:
    """The plate inside a dealer's or owner's frame: a band round it, wider below, with words on it,
    its lip covering the plate's edge (often the slogan). Label lines move with the plate."""
    w, h = c.size
    top, bottom, side = (
        round(h * rng.uniform(0.06, 0.14)),
        round(h * rng.uniform(0.08, 0.22)),
        round(w * rng.uniform(0.02, 0.05)),
    )
    chrome = rng.random() < 0.3
    colour = jitter(rng, (170.0, 170.0, 175.0) if chrome else (28.0, 28.0, 30.0), 12)
    out = Canvas(w + 2 * side, h + top + bottom, colour, rng, grain=4.0)
    out.image[top : top + h, side : side + w] = c.image
    out.lines = list(c.lines)
    out.boxes = [[x1 + side, y1 + top, x2 + side, y2 + top] for x1, y1, x2, y2 in c.boxes]
    lip_top, lip_bottom = h * rng.uniform(0.0, 0.05), h * rng.uniform(0.0, 0.1)
    W, H = out.size
    out.rect(0, 0, W, top + lip_top, colour)
    out.rect(0, top + h - lip_bottom, W, H, colour)
    out.rect(0, 0, side + w * 0.01, H, colour)
    out.rect(W - side - w * 0.01, 0, W, H, colour)
    words = (30.0, 30.0, 30.0) if chrome else jitter(rng, (230.0, 230.0, 230.0), 15)
    band = H - (top + h - lip_bottom)
    width = W * rng.uniform(0.4, 0.8)
    c_word = str(rng.choice(FRAME_WORDS))
    out.caption(_face(rng, "caption"), c_word, ((W - width) / 2, H - band * 0.8, width, band * 0.6), words)
    if rng.random() < 0.3 and top + lip_top > h * 0.08:
        out.caption(
            _face(rng, "caption"),
            str(rng.choice(FRAME_WORDS)),
            (W * 0.25, (top + lip_top) * 0.2, W * 0.5, (top + lip_top) * 0.6),
            words,
        )
    return out, (float(side), float(top), float(side + w), float(top + h))
