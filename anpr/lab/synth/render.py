"""From a flat plate to a labelled crop: surface wear, a random view (rotation, shear, perspective,
scale), a loose detector-like box with background around the plate, then camera effects."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from anpr.lab.synth import degrade as effects
from anpr.lab.synth.layouts import US_DESIGNS, layout, region_of, style_weights
from anpr.lab.synth.paint import Drawn

Box = tuple[int, int, int, int]

# The US designs are drawn at the widths unseen US plates come in (issue #28: 60-130 px), log-uniform,
# and cut as the runtime cuts a detected plate: its box (jittered as a detector's is) grown by
# anpr.pipeline.PLATE_PAD, so that a frame, a sticker or the car's paint shows where it would.
SMALL_WIDTHS = (60.0, 130.0)
CROP_PAD = (0.04, 0.08)  # anpr.pipeline.PLATE_PAD (a test keeps the two equal)
BOX_JITTER = 0.03  # spread of a detector box's sides, as a fraction of the plate's size


@dataclass(frozen=True)
class SyntheticPlate:
    image: np.ndarray  # HxWx3 uint8 BGR plate crop, with a little margin as a detector box would give
    text: str  # series + number, A-Z0-9, year excluded (e.g. "LEH5789")
    year: str | None  # Pakistani small registration year ("07") or None
    region: str  # "pk" | "us" | "eu" | "br"
    style: str  # one of STYLES
    lines: tuple[str, ...]  # printed registration text per line, top to bottom (e.g. ("LEH07", "5789"))
    line_boxes: tuple[Box, ...]  # x1, y1, x2, y2 of each line in `image` (approximate after warping)
    quad: tuple[tuple[float, float], ...] = ()  # plate corners in `image`: TL, TR, BR, BL


def render_plate(
    rng: np.random.Generator, style: str | None = None, degrade: bool = True, us_designs: float = 0.0
) -> SyntheticPlate:
    """One synthetic plate; `style` None draws one from the default mix (with the US designs at the
    share `us_designs`)."""
    if style is None:
        styles, weights = style_weights(us_designs=us_designs)
        style = str(styles[rng.choice(len(styles), p=weights)])
    drawn = layout(style)(rng)
    if degrade:
        effects.surface(drawn.canvas, rng)
    if style in US_DESIGNS:
        image, boxes, quad = _place_small(drawn, rng, degrade)
    else:
        image, boxes, quad = _place(drawn, rng, degrade)
    if degrade:
        # camera() bounds its resolution loss by text lines per crop height; a US design is small
        # already, so it counts as two lines: its characters keep about 13 px of height or more
        lines = 2 if style in US_DESIGNS else max(1, len(drawn.canvas.lines))
        image = effects.camera(image, rng, lines)
    return SyntheticPlate(
        image=image,
        text=drawn.text,
        year=drawn.year,
        region=region_of(style),
        style=style,
        lines=tuple(drawn.canvas.lines),
        line_boxes=boxes,
        quad=quad,
    )


def generate(
    n: int, seed: int = 0, regions: Sequence[str] | None = None, degrade: bool = True, us_designs: float = 0.0
) -> Iterator[SyntheticPlate]:
    """n plates, the same for the same arguments. regions limits the mix (e.g. ["pk"]); us_designs is
    the share of the mix the issue #28 US designs take (none by default: the mix as it always was)."""
    styles, weights = style_weights(regions, us_designs)
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield render_plate(rng, str(styles[rng.choice(len(styles), p=weights)]), degrade)


def _place(
    drawn: Drawn, rng: np.random.Generator, degrade: bool
) -> tuple[np.ndarray, tuple[Box, ...], tuple]:
    canvas = drawn.canvas
    plate: np.ndarray = canvas.image.clip(0, 255).astype(np.uint8)
    h, w = plate.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    if not degrade:
        m = round(0.05 * h)
        image = cv2.copyMakeBorder(plate, m, m, m, m, cv2.BORDER_CONSTANT, value=(90, 90, 90))
        return (
            image,
            _boxes(canvas.boxes, np.array([[1, 0, m], [0, 1, m], [0, 0, 1]], np.float64), image.shape),
            _quad(src + m),
        )
    lines = max(1, len(canvas.lines))
    target_h = math.exp(rng.uniform(math.log(28 + 14 * (lines - 1)), math.log(130)))
    scale = target_h / h
    if scale < 0.8:  # shrink with area averaging first; the warp itself does not low-pass
        plate = cv2.resize(
            plate, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        pre = np.array([[plate.shape[1] / w, 0, 0], [0, plate.shape[0] / h, 0], [0, 0, 1]], np.float64)
    else:
        pre = np.eye(3)
    dst = _view(rng, w * scale, h * scale)
    x0, y0 = dst.min(axis=0)
    x1, y1 = dst.max(axis=0)
    qw, qh = x1 - x0, y1 - y0
    left, right = qw * rng.uniform(-0.015, 0.05, 2)
    top, bottom = qh * rng.uniform(-0.02, 0.1, 2)
    dst = dst - [x0 - left, y0 - top]
    out_w, out_h = max(8, math.ceil(qw + left + right)), max(8, math.ceil(qh + top + bottom))
    small_src = np.array(
        [[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]], np.float32
    )
    warp = cv2.getPerspectiveTransform(small_src, dst.astype(np.float32))
    image = effects.background(rng, out_h, out_w)
    cv2.warpPerspective(plate, warp, (out_w, out_h), image, cv2.INTER_LINEAR, cv2.BORDER_TRANSPARENT)
    return image, _boxes(canvas.boxes, warp @ pre, image.shape), _quad(dst)


def _place_small(
    drawn: Drawn, rng: np.random.Generator, degrade: bool
) -> tuple[np.ndarray, tuple[Box, ...], tuple]:
    """The plate at a width in SMALL_WIDTHS, seen from a random view (clean: level, no jitter), in a
    crop cut round its box with the runtime's margin; a frame round the plate stays in the crop."""
    canvas = drawn.canvas
    flat: np.ndarray = canvas.image.clip(0, 255).astype(np.uint8)
    h, w = flat.shape[:2]
    px1, py1, px2, py2 = drawn.plate or (0.0, 0.0, float(w), float(h))
    target = math.exp(rng.uniform(math.log(SMALL_WIDTHS[0]), math.log(SMALL_WIDTHS[1])))
    scale = target / (px2 - px1)
    small = cv2.resize(
        flat, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape[:2]
    pre = np.array([[sw / w, 0, 0], [0, sh / h, 0], [0, 0, 1]], np.float64)
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    dst = _view(rng, sw, sh) if degrade else src.astype(np.float64)
    plate = np.array([[px1, py1], [px2, py1], [px2, py2], [px1, py2]], np.float64)
    quad = _through(cv2.getPerspectiveTransform(src, dst.astype(np.float32)) @ pre, plate)
    # the view changes the plate's width a little: scale it back to the width drawn
    k = target / ((quad[1, 0] - quad[0, 0] + quad[2, 0] - quad[3, 0]) / 2)
    dst, quad = dst * k, quad * k
    size = quad.max(axis=0) - quad.min(axis=0)
    jitter = rng.normal(0, BOX_JITTER, 4) * np.tile(size, 2) if degrade else np.zeros(4)
    pad = np.asarray(CROP_PAD) * size
    box = np.concatenate([quad.min(axis=0) - pad, quad.max(axis=0) + pad]) + jitter
    origin = np.floor(box[:2])
    out_w, out_h = (max(16, math.ceil(v)) for v in box[2:] - origin)
    warp = cv2.getPerspectiveTransform(src, (dst - origin).astype(np.float32))
    image = effects.background(rng, out_h, out_w) if degrade else np.full((out_h, out_w, 3), 90, np.uint8)
    cv2.warpPerspective(small, warp, (out_w, out_h), image, cv2.INTER_LINEAR, cv2.BORDER_TRANSPARENT)
    return image, _boxes(canvas.boxes, warp @ pre, image.shape), _quad(quad - origin)


def _through(warp: np.ndarray, pts: np.ndarray) -> np.ndarray:
    mapped = np.hstack([pts, np.ones((len(pts), 1))]) @ warp.T
    return mapped[:, :2] / mapped[:, 2:]


def _view(rng: np.random.Generator, w: float, h: float) -> np.ndarray:
    """Corners of the plate seen from a random camera: rotation, shear, yaw/pitch foreshortening."""
    pts = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) - [w / 2, h / 2]
    pts[:, 0] += pts[:, 1] * float(np.clip(rng.normal(0, 0.05), -0.2, 0.2))  # shear
    yaw, pitch = np.clip(rng.normal(0, 0.05, 2), -0.14, 0.14)
    pts[:, 1] *= 1 + yaw * np.sign(pts[:, 0])  # one side nearer the camera
    pts[:, 0] *= 1 + pitch * np.sign(pts[:, 1])
    pts += rng.normal(0, 0.012 * max(w, h), pts.shape)
    a = math.radians(float(np.clip(rng.normal(0, 2.5), -8, 8)))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return pts @ rot.T + [w / 2, h / 2]


def _boxes(boxes: list[list[float]], warp: np.ndarray, shape: tuple[int, ...]) -> tuple[Box, ...]:
    """Canvas line boxes (cap height, with a little room for overshoot) through the warp, clipped."""
    out = []
    for x1, y1, x2, y2 in boxes:
        pad = 0.08 * (y2 - y1)
        corners = np.array(
            [[x1, y1 - pad, 1], [x2, y1 - pad, 1], [x2, y2 + pad, 1], [x1, y2 + pad, 1]], np.float64
        )
        mapped = corners @ warp.T
        xy = mapped[:, :2] / mapped[:, 2:]
        bx1, by1 = np.clip(np.floor(xy.min(axis=0)), 0, [shape[1] - 2, shape[0] - 2])
        bx2, by2 = np.clip(np.ceil(xy.max(axis=0)), [bx1 + 1, by1 + 1], [shape[1] - 1, shape[0] - 1])
        out.append((int(bx1), int(by1), int(bx2), int(by2)))
    return tuple(out)


def _quad(pts: np.ndarray) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 1), round(float(y), 1)) for x, y in pts)
