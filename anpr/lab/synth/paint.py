"""Drawing on a plate canvas: text runs that record their label line and box, bands, emblems, borders
and fasteners. Coordinates are canvas pixels; colours are BGR floats 0-255."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from anpr.lab.synth import fonts

Colour = tuple[float, float, float]

BLACK: Colour = (28.0, 28.0, 30.0)
MAX_SQUEEZE = 1.5  # how far a run may be condensed to fit its box before its letters shrink instead


def _interpolation(src: int, dst: int) -> int:
    return cv2.INTER_LINEAR if dst * 1.6 >= src else cv2.INTER_AREA


def jitter(rng: np.random.Generator, colour: Colour, amount: float = 12.0) -> Colour:
    b, g, r = (np.clip(np.asarray(colour) + rng.normal(0, amount, 3), 0, 255)).tolist()
    return (b, g, r)


class Canvas:
    """A flat plate being drawn. Text drawn with `line=i` is appended to label line i, so labels come
    from what is actually drawn."""

    def __init__(
        self, width: int, height: int, background: Colour, rng: np.random.Generator | None = None, grain=0.0
    ):
        """grain > 0 adds low-frequency blotches (sheeting, reflective film) so the field is not flat."""
        if rng is not None and grain > 0:
            small = rng.normal(0, grain, (max(2, height // 12), max(2, width // 12), 1)).astype(np.float32)
            small = small + np.asarray(background, np.float32)
            self.image: np.ndarray = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        else:
            self.image = np.empty((height, width, 3), np.float32)
            self.image[:] = background
        self.lines: list[str] = []
        self.boxes: list[list[float]] = []

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def blend(self, mask: np.ndarray, x: int, y: int, colour: Colour, alpha: float = 1.0) -> None:
        """Alpha-blend a colour through a float mask whose top-left corner goes at (x, y)."""
        h, w = mask.shape
        H, W = self.image.shape[:2]
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        m = mask[y0 - y : y1 - y, x0 - x : x1 - x, None] * alpha
        region = self.image[y0:y1, x0:x1]
        region += (np.asarray(colour, np.float32) - region) * m

    def text(
        self,
        font: str,
        text: str,
        box: tuple[float, float, float, float],
        colour: Colour,
        line: int | None = None,
        align: str = "center",
        spacing: float = 0.12,
        mono: bool = False,
        stretch: float = 1.0,
    ) -> tuple[float, float, float, float, list[tuple[float, float]]]:
        """Draw `text` with its cap height filling box (x, y, w, h); wider than w is condensed to fit,
        narrower is aligned. Returns the drawn cap box x1, y1, x2, y2 and the x spans of '*' marks."""
        x, y, w, h = box
        natural = self.measure(font, text, h, spacing, mono) * stretch
        if natural > w * MAX_SQUEEZE:  # too long even condensed: smaller letters, same centre line
            shrink = w * MAX_SQUEEZE / natural
            y, h, natural = y + h * (1 - shrink) / 2, h * shrink, natural * shrink
        cap = fonts.ref_cap(h)
        mask, marks = fonts.line_mask(font, text, spacing, mono, cap)
        width = min(natural, w)
        if align == "left":
            left = x
        elif align == "right":
            left = x + w - width
        else:
            left = x + (w - width) / 2
        pad = fonts.PAD * h
        out_w, out_h = max(1, round(width)), max(1, round(h + 2 * pad))
        resized = cv2.resize(mask, (out_w, out_h), interpolation=_interpolation(mask.shape[0], out_h))
        self.blend(resized, round(left), round(y - pad), colour)
        kx = width / mask.shape[1]
        spans = [(left + a * kx, left + b * kx) for a, b in marks]
        drawn = (left, y, left + width, y + h)
        if line is not None:
            while len(self.lines) <= line:
                self.lines.append("")
                self.boxes.append([math.inf, math.inf, -math.inf, -math.inf])
            self.lines[line] += "".join(c for c in text if c.isalnum())
            b = self.boxes[line]
            b[:] = [min(b[0], drawn[0]), min(b[1], drawn[1]), max(b[2], drawn[2]), max(b[3], drawn[3])]
        return (*drawn, spans)

    @staticmethod
    def measure(font: str, text: str, h: float, spacing: float = 0.12, mono: bool = False) -> float:
        """Natural width of a run drawn with cap height h."""
        cap = fonts.ref_cap(h)
        return fonts.width(font, text, spacing, mono, cap) * h / cap

    def caption(
        self, font: str, text: str, box: tuple[float, float, float, float], colour: Colour, align="center"
    ) -> None:
        """Free text (province, state, slogan) fitted into box, keeping its aspect unless too wide."""
        x, y, w, h = box
        mask = fonts.caption_mask(font, text, fonts.ref_cap(h))
        width = min(w, mask.shape[1] * h / mask.shape[0])
        left = x if align == "left" else x + w - width if align == "right" else x + (w - width) / 2
        size = (max(1, round(width)), max(1, round(h)))
        resized = cv2.resize(mask, size, interpolation=_interpolation(mask.shape[0], size[1]))
        self.blend(resized, round(left), round(y), colour)

    def rect(self, x1: float, y1: float, x2: float, y2: float, colour: Colour) -> None:
        cv2.rectangle(self.image, (round(x1), round(y1)), (round(x2) - 1, round(y2) - 1), colour, -1)

    def gradient(self, top: Colour, bottom: Colour) -> None:
        t = np.linspace(0, 1, self.image.shape[0], dtype=np.float32)[:, None, None]
        self.image[:] = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t


def border(canvas: Canvas, colour: Colour, inset: float, thickness: float, radius: float = 0.0) -> None:
    """A rounded rectangle outline (the embossed rim most plates have)."""
    w, h = canvas.size
    t = max(1, round(thickness))
    i = round(inset + thickness / 2)
    r = round(radius)
    img = canvas.image
    if r <= 0:
        cv2.rectangle(img, (i, i), (w - 1 - i, h - 1 - i), colour, t, cv2.LINE_AA)
        return
    cv2.line(img, (i + r, i), (w - 1 - i - r, i), colour, t, cv2.LINE_AA)
    cv2.line(img, (i + r, h - 1 - i), (w - 1 - i - r, h - 1 - i), colour, t, cv2.LINE_AA)
    cv2.line(img, (i, i + r), (i, h - 1 - i - r), colour, t, cv2.LINE_AA)
    cv2.line(img, (w - 1 - i, i + r), (w - 1 - i, h - 1 - i - r), colour, t, cv2.LINE_AA)
    for cx, cy, a in ((i + r, i + r, 180), (w - 1 - i - r, i + r, 270), (w - 1 - i - r, h - 1 - i - r, 0)):
        cv2.ellipse(img, (cx, cy), (r, r), a, 0, 90, colour, t, cv2.LINE_AA)
    cv2.ellipse(img, (i + r, h - 1 - i - r), (r, r), 90, 0, 90, colour, t, cv2.LINE_AA)


def punjab_emblem(canvas: Canvas, rng: np.random.Generator, cx: float, cy: float, size: float) -> None:
    """A bouquet of wheat-like leaves: the Punjab emblem seen at plate resolution."""
    img = canvas.image
    yellow = jitter(rng, (105, 210, 225), 15)
    dark = jitter(rng, (40, 120, 40), 10)
    n = int(rng.integers(5, 9))
    for k in range(n):
        angle = -60 + 120 * k / (n - 1) + rng.normal(0, 6)
        a = math.radians(angle - 90)
        length = size * rng.uniform(0.35, 0.5)
        ex = cx + math.cos(a) * length * 0.6
        ey = cy + math.sin(a) * length * 0.6
        axes = (max(1, round(length * 0.45)), max(1, round(size * 0.07)))
        cv2.ellipse(img, (round(ex), round(ey)), axes, angle - 90, 0, 360, yellow, -1, cv2.LINE_AA)
        cv2.line(img, (round(cx), round(cy + size * 0.35)), (round(ex), round(ey)), dark, 1, cv2.LINE_AA)
    cv2.ellipse(
        img,
        (round(cx), round(cy + size * 0.3)),
        (round(size * 0.12), round(size * 0.08)),
        0,
        0,
        360,
        yellow,
        -1,
    )


def mosque_emblem(canvas: Canvas, cx: float, cy: float, size: float, colour: Colour) -> None:
    """Faisal Mosque in silhouette: a tent-like roof and four thin minarets."""
    img = canvas.image
    s = size
    roof = np.array([[cx - 0.3 * s, cy + 0.25 * s], [cx, cy - 0.2 * s], [cx + 0.3 * s, cy + 0.25 * s]])
    cv2.fillPoly(img, [roof.round().astype(np.int32)], colour, cv2.LINE_AA)
    for dx in (-0.42, -0.36, 0.36, 0.42):
        x = round(cx + dx * s)
        cv2.line(img, (x, round(cy - 0.45 * s)), (x, round(cy + 0.25 * s)), colour, max(1, round(s * 0.03)))
    cv2.line(
        img,
        (round(cx - 0.45 * s), round(cy + 0.27 * s)),
        (round(cx + 0.45 * s), round(cy + 0.27 * s)),
        colour,
        1,
    )


def star_ring(canvas: Canvas, cx: float, cy: float, radius: float, colour: Colour) -> None:
    """The EU's twelve stars, as dots."""
    dot = max(1, round(radius * 0.18))
    for k in range(12):
        a = 2 * math.pi * k / 12
        centre = (round(cx + radius * math.cos(a)), round(cy + radius * math.sin(a)))
        cv2.circle(canvas.image, centre, dot, colour, -1, cv2.LINE_AA)


def round_blob(
    canvas: Canvas, rng: np.random.Generator, cx: float, cy: float, radius: float, colours: list[Colour]
) -> None:
    """A small coloured seal or sticker (registration stamps, coats of arms, state graphics)."""
    for k, colour in enumerate(colours):
        r = max(1, round(radius * (1 - 0.3 * k)))
        cv2.circle(canvas.image, (round(cx), round(cy)), r, jitter(rng, colour, 10), -1, cv2.LINE_AA)


def state_emblem(
    canvas: Canvas, rng: np.random.Generator, cx: float, cy: float, width: float, height: float
) -> None:
    """The graphic many US plates print between their character groups, about a character in size:
    a state outline (Missouri), a flag (Alaska), a fruit (Florida), a seal. Readers must learn to
    skip it: on real plates it is read as an extra 8, B or 0."""
    img, kind = canvas.image, str(rng.choice(["outline", "flag", "fruit", "seal"]))
    w, h = width / 2, height / 2
    colours = ((40, 40, 190), (150, 70, 20), (40, 120, 200), (60, 60, 60))
    colour = jitter(rng, colours[int(rng.integers(len(colours)))], 25)
    if kind == "outline":  # an irregular filled polygon, sometimes with a dark rim
        angles = np.sort(rng.uniform(0, 2 * math.pi, int(rng.integers(5, 9))))
        radii = rng.uniform(0.75, 1.0, len(angles))
        pts = np.stack([cx + w * radii * np.cos(angles), cy + h * radii * np.sin(angles)], 1)
        pts = pts.round().astype(np.int32)
        cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
        if rng.random() < 0.5:
            rim = jitter(rng, (30, 30, 30), 10)
            cv2.polylines(img, [pts], True, rim, max(1, round(h * 0.12)), cv2.LINE_AA)
    elif kind == "flag":  # a dark field with a few light dots
        canvas.rect(cx - w, cy - h * 0.8, cx + w, cy + h * 0.8, colour)
        light = jitter(rng, (60, 200, 240), 20)
        for _ in range(int(rng.integers(3, 8))):
            x, y = cx + rng.uniform(-0.8, 0.8) * w, cy + rng.uniform(-0.6, 0.6) * h
            cv2.circle(img, (round(x), round(y)), max(1, round(h * 0.1)), light, -1, cv2.LINE_AA)
    elif kind == "fruit":  # a round fruit with a leaf
        fruit = jitter(rng, (30, 140, 240), 20)
        r = max(1, round(min(w, h) * 0.85))
        cv2.circle(img, (round(cx), round(cy + h * 0.1)), r, fruit, -1, cv2.LINE_AA)
        leaf = np.array([[cx, cy - h * 0.6], [cx + w * 0.7, cy - h * 1.0], [cx + w * 0.3, cy - h * 0.5]])
        cv2.fillPoly(img, [leaf.round().astype(np.int32)], jitter(rng, (40, 140, 50), 20), cv2.LINE_AA)
    else:
        round_blob(canvas, rng, cx, cy, min(w, h), [colour, (220, 220, 220), colour])


def ajrak_band(canvas: Canvas, rng: np.random.Generator, x1: float, y1: float, x2: float, y2: float) -> None:
    """Sindh's ajrak print: crimson ground with a tiled indigo and white motif."""
    canvas.rect(x1, y1, x2, y2, jitter(rng, (40, 30, 150), 10))
    step = max(4, round((x2 - x1) / 3))
    indigo, light = jitter(rng, (90, 30, 30), 8), jitter(rng, (225, 230, 235), 8)
    for yy in range(round(y1) + step // 2, round(y2), step):
        for xx in range(round(x1) + step // 2, round(x2), step):
            cv2.circle(canvas.image, (xx, yy), max(1, step // 3), indigo, -1, cv2.LINE_AA)
            cv2.circle(canvas.image, (xx, yy), max(1, step // 8), light, -1, cv2.LINE_AA)


def fasteners(canvas: Canvas, rng: np.random.Generator, kind: str | None = None) -> None:
    """Bolt holes, rivets or screw heads near the top (sometimes bottom) edge."""
    w, h = canvas.size
    kind = kind or str(rng.choice(["hole", "rivet", "screw"]))
    r = h * rng.uniform(0.03, 0.055)
    xs = [0.2, 0.8] if rng.random() < 0.6 else [0.5] if rng.random() < 0.5 else [0.12, 0.88]
    ys = [h * rng.uniform(0.06, 0.12)]
    if rng.random() < 0.3:
        ys.append(h * rng.uniform(0.88, 0.94))
    for fy in ys:
        for fx in xs:
            fastener(canvas, rng, (round(w * (fx + rng.normal(0, 0.02))), round(fy)), r, kind)


def fastener(canvas: Canvas, rng: np.random.Generator, c: tuple[int, int], r: float, kind: str) -> None:
    """One bolt hole, rivet or screw head of radius `r` centred at `c`."""
    if kind == "hole":
        cv2.circle(
            canvas.image, c, round(r), jitter(rng, (45.0 + rng.normal(0, 12),) * 3, 3), -1, cv2.LINE_AA
        )
        return
    metal = jitter(rng, (150.0 + rng.normal(0, 30),) * 3, 4)
    cv2.circle(canvas.image, c, round(r * 1.2), metal, -1, cv2.LINE_AA)
    hi = tuple(min(255.0, v + 60) for v in metal)
    cv2.circle(canvas.image, (c[0] - round(r * 0.3), c[1] - round(r * 0.3)), round(r * 0.4), hi, -1)
    if kind == "screw":
        a = rng.uniform(0, math.pi)
        dx, dy = round(math.cos(a) * r), round(math.sin(a) * r)
        cv2.line(canvas.image, (c[0] - dx, c[1] - dy), (c[0] + dx, c[1] + dy), (40, 40, 40), 1)


@dataclass
class Drawn:
    """A finished flat plate: the canvas and its registration."""

    canvas: Canvas
    text: str
    year: str | None = None
    # the plate's x1, y1, x2, y2 where the canvas holds more than the plate (a frame round it)
    plate: tuple[float, float, float, float] | None = None
