"""US, EU and Brazilian plate layouts, matched to the OpenALPR benchmark photos."""

from __future__ import annotations

import cv2
import numpy as np

from anpr.lab.synth import fonts, numbers
from anpr.lab.synth.paint import BLACK, Canvas, Drawn, border, jitter, round_blob, star_ring, state_emblem

US_STATES = (
    "California", "TEXAS", "ARIZONA", "NEW YORK", "Florida", "WASHINGTON", "Illinois", "INDIANA", "Missouri",
    "ALASKA", "Arkansas", "OHIO", "Georgia", "MICHIGAN", "Oregon", "NEVADA", "Virginia", "COLORADO",
    "Pennsylvania", "NEW JERSEY", "Minnesota", "UTAH",
)  # fmt: skip
US_SLOGANS = (
    "Grand Canyon State", "The Empire State", "The Natural State", "Sunshine State", "Great Lakes",
    "THE LAST FRONTIER", "Land of Lincoln", "Evergreen State", "Pure Michigan", "Lone Star State",
    "dmv.ca.gov", "Show Me State", "", "",
)  # fmt: skip
BR_CITIES = (
    "BA-SALVADOR", "SP-SAO PAULO", "RJ-RIO DE JANEIRO", "GO-GOIANIA", "DF-BRASILIA", "BA-LAURO DE FREITAS",
    "SP-DIADEMA", "ES-VITORIA", "BA-CAMACARI", "MG-BELO HORIZONTE", "PR-CURITIBA", "BA-FEIRA DE SANTANA",
)  # fmt: skip
INKS = ((110.0, 40.0, 25.0), (28.0, 28.0, 30.0), (40.0, 30.0, 120.0), (50.0, 90.0, 20.0), (90.0, 60.0, 30.0))


def _face(rng: np.random.Generator, role: str) -> str:
    return str(rng.choice(fonts.faces(role)))


def us(rng: np.random.Generator) -> Drawn:
    dark = rng.random() < 0.08
    if dark:
        background = jitter(rng, ((120.0, 50.0, 20.0), (30.0, 30.0, 30.0))[int(rng.integers(2))], 10)
    else:
        background = jitter(rng, (238.0, 240.0, 240.0), 8)
    c = Canvas(round(100 * rng.uniform(1.9, 2.1)), 100, background, rng, grain=3.0)
    w, h = c.size
    if not dark and rng.random() < 0.6:  # pale tinted sky, sometimes a coloured graphic low down
        c.gradient(jitter(rng, (235, 225, 215), 15), jitter(rng, (235, 238, 240), 8))
        if rng.random() < 0.5:
            pts = np.array(
                [[0, h * 0.85], [w * rng.uniform(0.2, 0.4), h * rng.uniform(0.55, 0.75)], [w, h * 0.8]]
            )
            pts = np.vstack([pts, [[w, h], [0, h]]]).round().astype(np.int32)
            cv2.fillPoly(c.image, [pts], jitter(rng, (120, 150, 200), 40), cv2.LINE_AA)
    ink = (240.0, 240.0, 240.0) if dark else jitter(rng, INKS[int(rng.integers(len(INKS)))], 10)
    accent = jitter(
        rng, ((40.0, 40.0, 200.0), (140.0, 60.0, 20.0), (30.0, 30.0, 30.0))[int(rng.integers(3))], 15
    )
    state = str(rng.choice(US_STATES))
    c.caption(_face(rng, "serif"), state, (w * 0.2, h * 0.06, w * 0.6, h * 0.16), ink if dark else accent)
    printed, label = numbers.us_text(rng)
    ch = h * rng.uniform(0.42, 0.52)
    y = h * rng.uniform(0.27, 0.33)
    _, _, _, _, marks = c.text(
        _face(rng, "condensed"), printed, (w * 0.06, y, w * 0.88, ch), ink, 0, spacing=0.1
    )
    for a, b in marks:
        if rng.random() < 0.3:
            round_blob(c, rng, (a + b) / 2, y + ch / 2, (b - a) * 0.4, [(40, 40, 200), (200, 200, 60)])
        else:  # a state graphic about a character in size, overlapping the gap's spacing a little
            size = ch * rng.uniform(0.45, 0.85)
            width = min(max(b - a, size * rng.uniform(0.8, 1.2)), (b - a) * 1.5)
            state_emblem(c, rng, (a + b) / 2, y + ch / 2, width, size)
    slogan = str(rng.choice(US_SLOGANS))
    if slogan:
        c.caption(_face(rng, "caption"), slogan, (w * 0.25, h * 0.84, w * 0.5, h * 0.09), accent)
    for corner in rng.choice(
        [0.1, 0.9], size=int(rng.integers(0, 3)), replace=False
    ):  # registration stickers
        x0 = w * corner - w * 0.05
        c.rect(x0, h * 0.06, x0 + w * 0.1, h * 0.2, jitter(rng, (60, 60, 200), 60))
    border(c, jitter(rng, BLACK, 30), h * 0.02, h * 0.02, h * 0.08)
    return Drawn(c, label)


def eu(rng: np.random.Generator) -> Drawn:
    country = str(rng.choice(numbers.EU_COUNTRIES))
    yellow = country in ("GB", "NL") and rng.random() < 0.5
    background = jitter(rng, (20.0, 200.0, 245.0) if yellow else (240.0, 242.0, 242.0), 8)
    h = 84
    c = Canvas(round(h * rng.uniform(4.3, 4.7)), h, background, rng, grain=3.0)
    w, _ = c.size
    band = h * rng.uniform(0.36, 0.42)
    if country not in ("GB",) or rng.random() < 0.7:
        c.rect(0, 0, band, h, jitter(rng, (150.0, 50.0, 0.0), 12))
        star_ring(c, band / 2, h * 0.3, band * 0.28, (0.0, 205.0, 250.0))
        c.caption(
            _face(rng, "caption"),
            country,
            (band * 0.15, h * 0.58, band * 0.7, h * 0.3),
            (245.0, 245.0, 245.0),
        )
    else:
        band = h * 0.1
    printed = numbers.eu_text(rng, country)
    ink = jitter(rng, BLACK, 6)
    ch = h * rng.uniform(0.64, 0.74)
    y = (h - ch) / 2
    box = (band + h * 0.12, y, w - band - h * 0.22, ch)
    _, _, _, _, marks = c.text(_face(rng, "condensed"), printed, box, ink, 0, spacing=rng.uniform(0.06, 0.14))
    for a, b in marks:
        r = (b - a) * 0.35
        round_blob(c, rng, (a + b) / 2, y + ch * 0.3, r, [(30, 30, 200), (230, 230, 230)])
        round_blob(c, rng, (a + b) / 2, y + ch * 0.72, r, [(60, 140, 60), (200, 200, 200)])
    border(c, ink, h * 0.03, h * 0.03, h * 0.06)
    return Drawn(c, "".join(ch for ch in printed if ch.isalnum()))


def br_old(rng: np.random.Generator) -> Drawn:
    red = rng.random() < 0.08  # commercial plates: red with white letters
    background = jitter(rng, (40.0, 40.0, 170.0) if red else (190.0, 192.0, 192.0), 12)
    h = 92
    c = Canvas(round(h * rng.uniform(3.0, 3.2)), h, background, rng, grain=9.0)
    w, _ = c.size
    ink = (235.0, 235.0, 235.0) if red else jitter(rng, BLACK, 8)
    c.rect(w * 0.04, h * 0.23, w * 0.96, h * 0.235 + 1, ink)
    c.caption(_face(rng, "caption"), str(rng.choice(BR_CITIES)), (w * 0.2, h * 0.07, w * 0.6, h * 0.12), ink)
    text = numbers.br_old(rng)
    ch = h * rng.uniform(0.5, 0.6)
    sep = str(rng.choice([".", "-"], p=[0.7, 0.3]))
    face = _face(rng, "condensed" if rng.random() < 0.5 else "plate")  # the real font is wide (Mandatory)
    c.text(face, f"{text[:3]}{sep}{text[3:]}", (w * 0.05, h * 0.3, w * 0.9, ch), ink, 0)
    border(c, ink, h * 0.02, h * 0.03, h * 0.05)
    return Drawn(c, text)


def br_mercosur(rng: np.random.Generator) -> Drawn:
    h = 92
    c = Canvas(round(h * rng.uniform(3.0, 3.2)), h, jitter(rng, (240.0, 242.0, 242.0), 6), rng, grain=3.0)
    w, _ = c.size
    blue = jitter(rng, (150.0, 60.0, 0.0), 10)
    c.rect(0, 0, w, h * 0.22, blue)
    white = (245.0, 245.0, 245.0)
    c.caption(_face(rng, "caption"), "BRASIL", (w * 0.35, h * 0.04, w * 0.3, h * 0.14), white)
    c.rect(w * 0.88, h * 0.04, w * 0.96, h * 0.18, (50.0, 150.0, 0.0))  # flag
    round_blob(c, rng, w * 0.92, h * 0.11, h * 0.05, [(0, 210, 250), (130, 40, 0)])
    round_blob(c, rng, w * 0.06, h * 0.11, h * 0.06, [(230, 230, 230), (150, 60, 0)])  # Mercosur mark
    text = numbers.br_mercosur(rng)
    ch = h * rng.uniform(0.5, 0.58)
    ink = jitter(rng, BLACK, 6)
    c.text(_face(rng, "condensed"), text, (w * 0.06, h * 0.32, w * 0.88, ch), ink, 0, spacing=0.12)
    border(c, ink, h * 0.015, h * 0.025, h * 0.05)
    return Drawn(c, text)
