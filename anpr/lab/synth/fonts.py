"""Fonts from Debian packages, found by file name under /usr/share/fonts, and cached glyph masks.

Glyphs are rendered once at a reference cap height and composed into line masks with numpy; a line is
then resized to its box on the plate. This keeps PIL's FreeType out of the per-plate loop.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import cast

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from anpr.errors import AnprError

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
APT_PACKAGES = (
    "fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-freefont-ttf fonts-roboto-unhinted "
    "fonts-noto-core"
)

# Faces by role, best first; a face missing on this machine is skipped.
PLATE_FACES = (
    "RobotoCondensed-Bold.ttf",
    "RobotoCondensed-Medium.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "Roboto-Medium.ttf",
    "Roboto-Bold.ttf",
    "DejaVuSans-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "FreeSansBold.ttf",
    "NotoSans-Bold.ttf",
    "NotoSansDisplay-Bold.ttf",
    "NotoSans-Regular.ttf",
    "RobotoCondensed-Regular.ttf",
    "DejaVuSansCondensed.ttf",
    "Roboto-Regular.ttf",
    "LiberationSans-Regular.ttf",
    "FreeSans.ttf",
    "DejaVuSans.ttf",
)
CONDENSED_FACES = (
    "RobotoCondensed-Bold.ttf",
    "RobotoCondensed-Medium.ttf",
    "RobotoCondensed-Regular.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansCondensed.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "LiberationSansNarrow-Regular.ttf",
)
CAPTION_FACES = (
    "DejaVuSans-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "Roboto-Bold.ttf",
    "FreeSansBold.ttf",
    "NotoSans-Bold.ttf",
)
SERIF_FACES = (
    "DejaVuSerif-Bold.ttf",
    "LiberationSerif-BoldItalic.ttf",
    "LiberationSerif-Bold.ttf",
    "FreeSerifBoldItalic.ttf",
    "NotoSerifDisplay-BoldItalic.ttf",
    "DejaVuSerifCondensed-BoldItalic.ttf",
)

REF_CAPS = (12, 20, 32, 48, 72)  # cap heights (pixels) at which glyphs are rendered and cached
PAD = 0.12  # rows kept above the cap line and below the baseline, as a fraction of the cap height


class MissingFontsError(AnprError):
    """No usable font was found for the synthetic plate generator."""


@functools.cache
def _font_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for root in FONT_DIRS:
        if root.is_dir():
            for dirpath, _, files in os.walk(root):
                for name in files:
                    if name.lower().endswith((".ttf", ".otf")):
                        index.setdefault(name, os.path.join(dirpath, name))
    return index


def installed_faces() -> dict[str, str]:
    """Every face some role may use that is installed here: file name -> path."""
    index = _font_index()
    names = dict.fromkeys((*PLATE_FACES, *CONDENSED_FACES, *CAPTION_FACES, *SERIF_FACES))
    return {name: index[name] for name in names if name in index}


@functools.cache
def faces(role: str) -> tuple[str, ...]:
    """Paths of the installed faces for a role ("plate", "condensed", "caption", "serif")."""
    wanted = {"plate": PLATE_FACES, "condensed": CONDENSED_FACES, "caption": CAPTION_FACES}.get(
        role, SERIF_FACES
    )
    index = _font_index()
    found = tuple(index[name] for name in wanted if name in index)
    if not found and role != "plate":
        found = faces("plate")
    if not found:
        raise MissingFontsError(f"no plate fonts under /usr/share/fonts; apt-get install {APT_PACKAGES}")
    return found


def ref_cap(height: float) -> int:
    """The cached glyph size to draw a cap height from: the smallest not below it, so that the resize
    is a mild shrink that linear interpolation handles without aliasing."""
    return next((cap for cap in REF_CAPS if cap >= height * 0.95), REF_CAPS[-1])


# FreeType's boxes are whole pixels; PIL annotates FreeTypeFont.getbbox with floats.
_PixelBox = tuple[int, int, int, int]


@functools.cache
def _pil_font(path: str, cap: int) -> tuple[ImageFont.FreeTypeFont, int]:
    """The font at a size whose capital H is `cap` pixels tall, and its measured cap height."""
    probe = ImageFont.truetype(path, 100)
    left, top, right, bottom = probe.getbbox("H", anchor="ls")
    font = ImageFont.truetype(path, max(4, round(100 * cap / max(1, bottom - top))))
    left, top, right, bottom = cast(_PixelBox, font.getbbox("H", anchor="ls"))
    return font, bottom - top


@functools.cache
def glyph(path: str, char: str, cap: int) -> np.ndarray:
    """Float32 ink mask of one character, rows from the cap line (less the pad) to the baseline (plus
    the pad), columns cropped to the ink."""
    font, measured = _pil_font(path, cap)
    pad = round(PAD * cap)
    image = Image.new("L", (int(font.getlength(char)) + 2 * cap, cap + 2 * pad), 0)
    ImageDraw.Draw(image).text((cap, pad + measured), char, font=font, fill=255, anchor="ls")
    mask = np.asarray(image, dtype=np.float32) / 255.0
    cols = np.flatnonzero(mask.max(axis=0) > 0.05)
    if cols.size == 0:
        return np.zeros((cap + 2 * pad, cap // 3), np.float32)
    return np.ascontiguousarray(mask[:, cols[0] : cols[-1] + 1])


def _advance(path: str, char: str, mono: bool, cap: int) -> int:
    if char == " ":
        return round(0.28 * cap)
    if char in ".*":
        return round((0.3 if char == "." else 0.5) * cap)
    width = glyph(path, char, cap).shape[1]
    return max(width, round(0.62 * cap)) if mono and char.isalnum() else width


def width(path: str, text: str, spacing: float = 0.12, mono: bool = False, cap: int = REF_CAPS[-1]) -> int:
    """Width of line_mask(path, text, spacing, mono, cap) without drawing it."""
    gaps = max(1, round(spacing * cap)) * max(0, len(text) - 1)
    return gaps + sum(_advance(path, c, mono, cap) for c in text)


def line_mask(
    path: str, text: str, spacing: float = 0.12, mono: bool = False, cap: int = REF_CAPS[-1]
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Ink mask of a run of characters with cap height `cap` (one of REF_CAPS), and the column spans of
    '*' marks (emblem places the caller paints). ' ' is a gap, '.' a centred dot, '*' an empty cell;
    spacing is the gap between glyphs as a fraction of the cap height; mono centres narrow glyphs in
    equal cells."""
    pad = round(PAD * cap)
    gap = max(1, round(spacing * cap))
    out = np.zeros((cap + 2 * pad, width(path, text, spacing, mono, cap)), np.float32)
    marks: list[tuple[int, int]] = []
    x = 0
    for char in text:
        advance = _advance(path, char, mono, cap)
        if char == ".":
            cv2.circle(
                out, (x + advance // 2, pad + cap // 2), max(1, round(0.08 * cap)), 1.0, -1, cv2.LINE_AA
            )
        elif char == "*":
            marks.append((x, x + advance))
        elif char != " ":
            g = glyph(path, char, cap)
            left = x + (advance - g.shape[1]) // 2
            out[:, left : left + g.shape[1]] = g
        x += advance + gap
    return out, marks


@functools.cache
def caption_mask(path: str, text: str, cap: int) -> np.ndarray:
    """Float32 ink mask of free text (mixed case, punctuation) at a cap height, cropped to its ink."""
    font, _ = _pil_font(path, cap)
    left, top, right, bottom = cast(_PixelBox, font.getbbox(text, anchor="ls"))
    image = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(image).text((4 - left, 4 - top), text, font=font, fill=255, anchor="ls")
    mask = np.asarray(image, dtype=np.float32) / 255.0
    rows = np.flatnonzero(mask.max(axis=1) > 0.05)
    cols = np.flatnonzero(mask.max(axis=0) > 0.05)
    if rows.size == 0:
        return np.zeros((8, 8), np.float32)
    return np.ascontiguousarray(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
