"""Levelling a slanted plate before it is read. A plate's text line slants in the picture when the
camera is aimed off level (the plate is turned) and when it looks from beside and above the road
(perspective: the line slants while the vertical strokes stay upright), and the reader, trained on
nearly level lines, loses both (`anpr bench tilt`, `anpr bench tilt --slant`). The text line's
angle comes from PaddleOCR's PP-OCRv4 text detector (the pinned `rapidocr-detector` weights, its DB
post-processing from rapidocr): the widest text region's minimum-area rectangle. The angle alone
cannot tell a turned plate from a slanted one, so a crop whose line leans LEVEL_FROM_DEGREES or more
is read both ways, turned back and sheared back, each trimmed to the plate it holds, and the reader
pools the two views. Smaller estimates are left alone, since on level plates the estimate itself
wanders by a few degrees; such a level crop is also read cut to the rows its text is in, where they
are a smaller part of it (a detected plate's box with its margin), and the reader pools that view
with the crop."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Turn a crop back only when its text leans this much: the estimate's own spread on level
# held-back plates (90th percentile about 3.4 degrees on the training half) stays below it.
LEVEL_FROM_DEGREES = 5.0
# The crop is scaled to the first height (a multiple of 32) for the detector, and to the second only
# where that finds no text line: rapidocr itself scales a page's short side to 736, and at 96 px the
# detector misses the line of many plates whose box is tall (slanted or turned 20 degrees); the
# first stays 96 because it is cheap and the 5 degrees above were measured with it.
DETECTOR_HEIGHTS = (96, 192)
# A level crop is also read cut to the rows that hold the plate's text (the crop's full width: the
# detector's regions often stop short of a character), since a detected plate's box, and the margin
# around it, leave the text a smaller part of what the line models see than a tight box does:
# text regions at least this share of the tallest one's height are the plate's characters ...
TEXT_ROWS_SHARE = 0.5
# ... kept with this much of their height above and below ...
TEXT_ROWS_PAD = 0.25
# ... and the cut is read only where it keeps at most this share of the crop's height.
TEXT_ROWS_KEEP = 0.75


@dataclass(frozen=True)
class TextLine:
    """What the text detector found in a crop: the main line's angle in degrees (0.0 when no line
    is found) and the rows (top, bottom) that hold the plate's text, None where they are most of
    the crop anyway or nothing was found (text_rows)."""

    degrees: float = 0.0
    rows: tuple[int, int] | None = None


def text_rows(boxes: list[tuple[float, float]], height: int) -> tuple[int, int] | None:
    """The rows of a crop `height` high that hold the plate's text, given the text regions' top and
    bottom rows: every region at least TEXT_ROWS_SHARE as tall as the tallest (a plate's
    characters; a state name or slogan is smaller), TEXT_ROWS_PAD of their height added above and
    below. None where they keep more than TEXT_ROWS_KEEP of the crop: no different view."""
    if not boxes:
        return None
    tallest = max(bottom - top for top, bottom in boxes)
    kept = [(top, bottom) for top, bottom in boxes if bottom - top >= TEXT_ROWS_SHARE * tallest]
    pad = TEXT_ROWS_PAD * tallest
    top = max(0, round(min(t for t, _ in kept) - pad))
    bottom = min(height, round(max(b for _, b in kept) + pad))
    if bottom - top > TEXT_ROWS_KEEP * height or bottom - top < 8:
        return None
    return top, bottom


class TextAngle:
    """Angle of a plate crop's main text line in degrees (image coordinates: positive leans down to
    the right), 0.0 when no line is found; `measure` also gives the rows its text is in. One
    onnxruntime session, made on first use."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._session = None
        self._post = None

    def _ready(self):
        if self._session is None:
            from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess

            from anpr.onnx import session
            from anpr.weights import weight_path

            self._session = session(weight_path("rapidocr-detector"), self.threads)
            # rapidocr's own defaults for PP-OCRv4 detection (its config.yaml)
            self._post = DBPostProcess(thresh=0.3, box_thresh=0.5, max_candidates=100, unclip_ratio=1.6)
        return self._session, self._post

    def __call__(self, crop: np.ndarray) -> float:
        return self.measure(crop).degrees

    def measure(self, crop: np.ndarray) -> TextLine:
        if crop is None or crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < 8:
            return TextLine()
        for height in DETECTOR_HEIGHTS:  # the next size only where the smaller one finds no line
            found = self._found(crop, height)
            if found is not None:
                return found
        return TextLine()

    def _found(self, crop: np.ndarray, target_height: int) -> TextLine | None:
        """The line and text rows with the crop scaled to `target_height`, None when no text line
        is found."""
        session, post = self._ready()
        height, width = crop.shape[:2]
        scale = target_height / height
        size = (max(32, round(width * scale / 32) * 32), target_height)
        image = cv2.resize(crop, size).astype(np.float32) / 127.5 - 1.0
        prediction = session.run(None, {session.get_inputs()[0].name: image.transpose(2, 0, 1)[None]})[0]
        quads, _ = post(prediction, (size[1], size[0]))  # corners in the scaled frame: tl, tr, br, bl
        best_area: float | np.floating
        best, best_area = None, 0.0
        for quad in quads:
            long_side, short_side = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])
            if long_side >= 1.5 * short_side and long_side * short_side > best_area:
                best, best_area = quad, long_side * short_side
        if best is None:
            return None
        rows = text_rows([(q[:, 1].min() / scale, q[:, 1].max() / scale) for q in quads], height)
        return TextLine(math.degrees(math.atan2(best[1][1] - best[0][1], best[1][0] - best[0][0])), rows)


def turned(image: np.ndarray, degrees: float, centre: tuple[float, float] | None = None) -> np.ndarray:
    """The image turned by `degrees` (counter-clockwise, cv2's sense) about `centre` (default: its
    own centre), same size, edges repeated into the corners it uncovers."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(centre or (width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def slanted(image: np.ndarray, degrees: float, centre: tuple[float, float] | None = None) -> np.ndarray:
    """The image sheared vertically by `degrees` about `centre` (default: its own centre), as a
    plate seen from the side and above appears: its lines slant (rising to the right for a positive
    angle, as `turned` turns them) while its vertical strokes stay vertical. Same size, edges
    repeated into what it uncovers."""
    height, width = image.shape[:2]
    cx = (centre or (width / 2, height / 2))[0]
    slope = math.tan(math.radians(degrees))
    matrix = np.array([[1, 0, 0], [-slope, 1, slope * cx]], dtype=np.float32)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def unslanted(crop: np.ndarray, degrees: float) -> np.ndarray:
    """The crop sheared by `degrees` (the angle TextAngle measures makes its lines level again, its
    vertical strokes untouched) and trimmed to the height of the plate it held: a W x H crop around
    a plate of height h slanted by a has H = h + W |tan a|. The crop as it was if that is tiny."""
    height, width = crop.shape[:2]
    h = height - width * abs(math.tan(math.radians(degrees)))
    if h < 8:
        return crop
    y0 = round((height - h) / 2)
    return slanted(crop, degrees)[y0 : y0 + round(h)]


def level(crop: np.ndarray, degrees: float) -> np.ndarray:
    """The crop turned by `degrees` (cv2's sense: the angle TextAngle measures turns it level) and
    trimmed to the upright box of the plate it held: a W x H crop around a w x h plate turned by a
    has W = w cos a + h sin a and H = w sin a + h cos a. The crop as it was if that box is tiny."""
    height, width = crop.shape[:2]
    cos, sin = math.cos(math.radians(abs(degrees))), math.sin(math.radians(abs(degrees)))
    w = (width * cos - height * sin) / (cos * cos - sin * sin)
    h = (height * cos - width * sin) / (cos * cos - sin * sin)
    if w < 8 or h < 8:
        return crop
    x0, y0 = round((width - w) / 2), round((height - h) / 2)
    return turned(crop, degrees)[y0 : y0 + round(h), x0 : x0 + round(w)]


class Leveller:
    """The views of each crop the reader should read: the crop itself when its text leans less than
    LEVEL_FROM_DEGREES, and beside it the crop cut to its text rows where they are a smaller part
    of it (TextLine.rows); otherwise the crop turned level and the crop sheared level (a turned
    plate and a plate seen from the side slant alike; each correction leaves the other kind of
    plate leaning in italic, which the line models read far better than a slanted line)."""

    def __init__(self, threads: int | None = None) -> None:
        self.angle = TextAngle(threads)

    def __call__(self, crops: list[np.ndarray]) -> list[list[np.ndarray]]:
        out = []
        for crop in crops:
            line = self.angle.measure(crop)
            if abs(line.degrees) >= LEVEL_FROM_DEGREES:
                out.append([level(crop, line.degrees), unslanted(crop, line.degrees)])
            elif line.rows is not None:
                out.append([crop, crop[line.rows[0] : line.rows[1]]])
            else:
                out.append([crop])
        return out
