"""Randomised wear and camera effects. `surface` works on the flat plate (float32 canvas) before it is
warped into the crop; `camera` works on the finished uint8 crop. Each effect fires with its own
probability, so most crops get a few and some get none."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from anpr.lab.synth import paint

SURFACE_P = {"fasteners": 0.55, "dirt": 0.3, "fade": 0.2}
CAMERA_P = {
    "shadow": 0.15,
    "glare": 0.15,
    "occlusion": 0.1,
    "colour": 0.6,
    "night": 0.1,
    "defocus": 0.25,
    "motion": 0.15,
    "lowres": 0.35,
    "noise": 0.45,
    "jpeg": 0.45,
}
# Around the plate: mostly dark holders and grey/white/black paint, some coloured cars.
BACKGROUNDS = (
    (25.0, 25.0, 25.0), (60.0, 60.0, 60.0), (150.0, 150.0, 150.0), (205.0, 205.0, 205.0),
    (235.0, 235.0, 235.0), (40.0, 40.0, 150.0), (130.0, 70.0, 30.0), (90.0, 110.0, 120.0),
)  # fmt: skip
BACKGROUND_P = np.array([0.3, 0.15, 0.15, 0.1, 0.08, 0.07, 0.07, 0.08])


def _smooth_field(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """A smooth random field in 0..1 (blotches), cheap: a few random cells upsampled."""
    small = rng.random((max(2, cells * h // max(h, w)), max(2, cells * w // max(h, w)))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def surface(canvas: paint.Canvas, rng: np.random.Generator) -> None:
    img = canvas.image
    h, w = img.shape[:2]
    if rng.random() < SURFACE_P["fasteners"]:
        paint.fasteners(canvas, rng)
    if rng.random() < SURFACE_P["dirt"]:
        stain = _smooth_field(rng, h, w, int(rng.integers(4, 10))) ** 3 * rng.uniform(0.2, 0.6)
        dirt = np.asarray(paint.jitter(rng, (50.0, 70.0, 90.0), 20), np.float32)
        img += (dirt - img) * stain[:, :, None]
        for _ in range(int(rng.integers(0, 4))):  # scratches
            p1 = (int(rng.integers(w)), int(rng.integers(h)))
            p2 = (p1[0] + int(rng.integers(-w // 4, w // 4)), p1[1] + int(rng.integers(-h // 6, h // 6)))
            cv2.line(img, p1, p2, paint.jitter(rng, (170.0, 170.0, 170.0), 30), 1, cv2.LINE_AA)
    if rng.random() < SURFACE_P["fade"]:
        towards = float(rng.uniform(150, 230))
        img += (towards - img) * float(rng.uniform(0.15, 0.45))


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """What a loose detector box catches around a plate: bumper paint, a dark holder, shadows."""
    base = BACKGROUNDS[rng.choice(len(BACKGROUNDS), p=BACKGROUND_P)]
    top = np.asarray(paint.jitter(rng, base, 8), np.float32) + np.float32(rng.normal(0, 15))
    rows = top * np.linspace(1, rng.uniform(0.4, 1.1), 4, dtype=np.float32)[:, None]
    small = rows[:, None, :] + rng.normal(0, 12, (4, 6, 3)).astype(np.float32)
    return cv2.resize(small.clip(0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


def camera(image: np.ndarray, rng: np.random.Generator, lines: int = 1) -> np.ndarray:
    """Camera effects on the crop; `lines` (text lines on the plate) bounds the resolution loss."""
    h, w = image.shape[:2]
    img = image
    if rng.random() < CAMERA_P["colour"]:
        img = _colour(img, rng)
    if rng.random() < CAMERA_P["occlusion"]:
        _occlude(img, rng)
    light = [name for name in ("shadow", "glare") if rng.random() < CAMERA_P[name]]
    if light:
        f = img.astype(np.float32)
        if "shadow" in light:
            f *= _shadow_mask(rng, h, w)[:, :, None]
        if "glare" in light:
            f = _glare(f, rng)
        img = f.clip(0, 255).astype(np.uint8)
    if rng.random() < CAMERA_P["night"]:
        cast = np.asarray(rng.choice([(0.7, 0.95, 1.25), (1.2, 1.0, 0.8), (1.0, 1.0, 1.0)]), np.float32)
        lut = np.arange(256, dtype=np.float32)[:, None] * np.float32(rng.uniform(0.35, 0.7)) * cast
        img = cv2.LUT(img, lut.clip(0, 255).astype(np.uint8)[:, None, :])
        img = _noise(img, rng, rng.uniform(3, 9))
    # Blur, motion and resolution loss share one budget so that the text stays legible.
    blurred = rng.random() < CAMERA_P["defocus"]
    if blurred:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2) * max(1.0, h / 60))
    if rng.random() < CAMERA_P["motion"] * (0.5 if blurred else 1.0):
        img = _motion_blur(img, rng)
        blurred = True
    k_min = max(0.3, min(0.9, 14 * lines / h), 0.5 if blurred else 0.0)
    if rng.random() < CAMERA_P["lowres"] and k_min < 0.9:
        k = rng.uniform(k_min, max(0.7, k_min + 0.1))
        small = cv2.resize(img, (max(8, round(w * k)), max(4, round(h * k))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=int(rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC])))
    if rng.random() < CAMERA_P["noise"]:
        img = _noise(img, rng, rng.uniform(2, 10))
    if rng.random() < CAMERA_P["jpeg"]:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 80))])
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        assert decoded is not None  # OpenCV decodes what it just encoded
        img = decoded
    return img


@functools.cache
def _noise_bank() -> np.ndarray:
    """Standard normal noise drawn once; crops at random offsets are cheaper than fresh draws."""
    return np.random.default_rng(20261124).standard_normal((288, 1024, 3), dtype=np.float32)


def _noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    bank = _noise_bank()
    h, w = img.shape[:2]
    if h > bank.shape[0] or w > bank.shape[1]:
        bank = np.tile(bank, (h // bank.shape[0] + 1, w // bank.shape[1] + 1, 1))
    y, x = int(rng.integers(0, bank.shape[0] - h + 1)), int(rng.integers(0, bank.shape[1] - w + 1))
    noise = bank[y : y + h, x : x + w, : 1 if rng.random() < 0.5 else 3] * np.float32(sigma)
    return (img + noise).clip(0, 255).astype(np.uint8)


def _shadow_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Half the crop in shade, split along a random soft line."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    d = (xx - w * rng.uniform(0.2, 0.8)) * math.cos(a) + (yy - h * rng.uniform(0.2, 0.8)) * math.sin(a)
    soft = 1 / (1 + np.exp(np.clip(-d / max(1.0, rng.uniform(0.5, 6)), -30, 30)))
    return 1 - soft * np.float32(rng.uniform(0.3, 0.65))


def _glare(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.1, 0.9), h * rng.uniform(0.1, 0.9)
    sx, sy = w * rng.uniform(0.04, 0.25), h * rng.uniform(0.1, 0.4)
    blob = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2))
    return img + blob[:, :, None] * np.float32(rng.uniform(60, 150))  # bright, but ink stays darker


def _occlude(img: np.ndarray, rng: np.random.Generator) -> None:
    """A holder edge or bar over the top or bottom border, or a bolt head, never a whole character."""
    h, w = img.shape[:2]
    colour = paint.jitter(rng, (40.0, 40.0, 40.0) if rng.random() < 0.6 else (170.0, 170.0, 170.0), 20)
    if rng.random() < 0.6:
        depth = round(h * rng.uniform(0.08, 0.18))
        y0, y1 = (0, depth) if rng.random() < 0.5 else (h - depth, h)
        x0 = round(w * rng.uniform(0, 0.5))
        cv2.rectangle(img, (x0, y0), (x0 + round(w * rng.uniform(0.2, 0.6)), y1), colour, -1)
    else:
        c = (round(w * rng.uniform(0.2, 0.8)), round(h * rng.uniform(0.15, 0.85)))
        cv2.circle(img, c, max(1, round(h * rng.uniform(0.04, 0.07))), colour, -1, cv2.LINE_AA)


def _colour(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gain per channel, contrast, brightness and gamma as one lookup table."""
    x = np.arange(256, dtype=np.float32)[:, None]
    warm, green = rng.normal(0, 0.06), rng.normal(0, 0.015)  # white balance: mostly along warm-cool
    gain = np.asarray([1 - warm, 1 + green, 1 + warm], np.float32)
    mean = np.float32(rng.uniform(90, 160))
    lut = ((x - mean) * np.float32(rng.uniform(0.55, 1.3)) + mean) * gain + np.float32(rng.normal(0, 18))
    if rng.random() < 0.3:
        lut = 255 * (lut.clip(0, 255) / 255) ** np.float32(rng.uniform(0.6, 1.6))
    return cv2.LUT(img, lut.clip(0, 255).astype(np.uint8)[:, None, :])


def _motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(3, max(4, img.shape[0] // 10 + 3)))
    kernel = np.zeros((n, n), np.float32)
    a = rng.uniform(0, math.pi)
    c = (n - 1) / 2
    dx, dy = math.cos(a) * c, math.sin(a) * c
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
    return cv2.filter2D(img, -1, kernel / kernel.sum())
