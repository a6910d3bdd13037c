"""Loading images the user gives us: every failure becomes a one-line InputError."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from anpr.errors import InputError

MAX_PIXELS = 100_000_000  # a 100-megapixel frame is far beyond any traffic camera; refuse larger


def load_image(path: str | Path) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file")
    try:
        with Image.open(path) as probe:  # reads the header only: size before decoding
            width, height = probe.size
    except Image.DecompressionBombError:
        # Pillow refuses to open one over twice its own limit (about 179 MP): ours is lower anyway
        raise InputError(
            f"{path}: image is too large to open, over the {MAX_PIXELS // 10**6} MP limit"
        ) from None
    except (UnidentifiedImageError, OSError, ImportError) as exc:
        # ImportError: once ultralytics is loaded, its patched Image.open answers a file Pillow cannot
        # identify by importing pi_heif (HEIF support), which is not installed
        raise InputError(f"{path}: not a readable image ({type(exc).__name__})") from None
    if width * height > MAX_PIXELS:
        raise InputError(f"{path}: image is {width}x{height} pixels, over the {MAX_PIXELS // 10**6} MP limit")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise InputError(f"{path}: not a readable image (truncated or unsupported)")
    return image


def crop(image: np.ndarray, box, pad_x: float = 0.0, pad_y: float = 0.0) -> np.ndarray:
    """The box (x1, y1, x2, y2) cut from the image, grown by a fraction of its size, clipped."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    height, width = image.shape[:2]
    left, top = max(0, int(round(x1 - pad_x * w))), max(0, int(round(y1 - pad_y * h)))
    right, bottom = min(width, int(round(x2 + pad_x * w))), min(height, int(round(y2 + pad_y * h)))
    return image[top:bottom, left:right]
