"""Public copies of evidence stills. An original is what the camera wrote and what its SHA-256 vouches
for; officers and courts see it as it is. The copy shown to the public is made from it: the data
bar burned in at capture (which speaks for the moment of capture, "suspected ... pending officer
review" on stills written before 2026-12) is cut off and replaced by one saying what was decided,
every plate but the challaned vehicle's and every face is blurred beyond reading, and the picture
is sized for phones (WebP, each width under `max_bytes`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from anpr.annotate import ALERT_BGR, data_bar
from anpr.detect import Detector

PUBLIC_WIDTHS = (640, 1280)  # srcset: a phone's screen, and the enlarged view on a sharp one
MAX_BYTES = 200_000
MIN_WIDTH = 480  # a bar's line of 72 characters fits from here
BAR_LINES = 6  # the most lines a burned-in data bar is looked for with (anpr.evidence writes 3-4)
BAR_BLEED = 8  # rows of the bar's top the JPEG block boundary may tint with the scene's colours
PLATE_PAD, FACE_PAD = 0.25, 0.25  # blur this much beyond each box, a share of its size per side
OUTLINE_MIN = 24  # px: a drawn vehicle box narrower or shorter than this is not looked for


@dataclass(frozen=True)
class Redaction:
    """What a public copy changed: rows of burned-in bar cut, the box kept as the challaned
    vehicle's, and the boxes blurred (xyxy in the original's pixels)."""

    bar_rows: int
    vehicle_box: tuple[int, int, int, int] | None
    plates_blurred: tuple[tuple[int, int, int, int], ...]
    faces_blurred: tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True)
class PublicStill:
    width: int
    data: bytes  # WebP

    media_type = "image/webp"


def burned_bar_rows(image: np.ndarray) -> int:
    """How many rows at the foot of `image` are a data bar drawn by anpr.annotate.data_bar (0 if
    none). Its height for n lines is data_bar's own; the tallest that is bar all through is taken,
    so a dark scene loses a few rows of road rather than the bar keeping a line."""
    height, width = image.shape[:2]
    blank = np.zeros((1, width, 3), np.uint8)
    heights = [data_bar(blank, [""] * n).shape[0] - 1 for n in range(BAR_LINES, 0, -1)]
    foot = min(height, heights[0])
    bar_like = _bar_rows(image[height - foot :])
    for rows in heights:
        if rows < height // 2 and bar_like[foot - rows + BAR_BLEED :].all():
            return rows
    return 0


def _bar_rows(image: np.ndarray) -> np.ndarray:
    """Per row: black ground with white or grey text (data_bar's), not a scene."""
    peak = image.max(axis=2).astype(np.int16)
    spread = peak - image.min(axis=2)
    return ((peak <= 40).mean(axis=1) >= 0.4) & ((spread > 48).mean(axis=1) <= 0.01)


def outlined_box(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """The vehicle box anpr.evidence draws on a scene (anpr.annotate.highlight, ALERT_BGR), found in
    the pixels: the largest rectangle whose four sides are lines of that red. None if there is none."""
    blue, green, red = (image[..., i].astype(np.int16) for i in range(3))
    target_b, target_g, target_r = ALERT_BGR
    red_enough = (red >= target_r - 85) & (green <= target_g + 80) & (blue <= target_b + 80)
    mask = (red_enough & (red - np.maximum(green, blue) >= 100)).astype(np.uint8)
    # only runs at least OUTLINE_MIN long, across (the top and bottom sides) or down (left, right)
    rows = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, OUTLINE_MIN), np.uint8))
    cols = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((OUTLINE_MIN, 1), np.uint8))
    contours, _ = cv2.findContours(cv2.bitwise_or(rows, cols), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best = None
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w < OUTLINE_MIN or h < OUTLINE_MIN or (best and w * h <= best[2] * best[3]):
            continue
        if _sides_drawn(rows, cols, x, y, w, h):
            best = (x, y, w, h)
    if best is None:
        return None
    x, y, w, h = best
    return (x, y, x + w, y + h)


def _sides_drawn(rows: np.ndarray, cols: np.ndarray, x: int, y: int, w: int, h: int) -> bool:
    """Each side of the rectangle is a line along at least 85 % of its length (a line is a few px
    thick, so each side is looked for in a band of 6 px inside the edge)."""
    band = 6
    sides = (
        rows[y : y + band, x : x + w].any(axis=0),
        rows[y + h - band : y + h, x : x + w].any(axis=0),
        cols[y : y + h, x : x + band].any(axis=1),
        cols[y : y + h, x + w - band : x + w].any(axis=1),
    )
    return all(side.mean() >= 0.85 for side in sides)


def blur_boxes(image: np.ndarray, boxes: Sequence[Sequence[float]] | np.ndarray, pad: float) -> list[tuple]:
    """Blur each box (grown by `pad` of its size each side) in place, beyond reading: the region is
    averaged down to 4x2 cells and smoothed back, so no character or feature survives (a Gaussian
    blur alone can be partly undone). Returns the boxes as blurred, in whole pixels."""
    height, width = image.shape[:2]
    done = []
    for x1, y1, x2, y2 in boxes:
        grow_x, grow_y = (x2 - x1) * pad, (y2 - y1) * pad
        left, top = max(0, int(x1 - grow_x)), max(0, int(y1 - grow_y))
        right, bottom = min(width, int(np.ceil(x2 + grow_x))), min(height, int(np.ceil(y2 + grow_y)))
        if right - left < 2 or bottom - top < 2:
            continue
        region = image[top:bottom, left:right]
        cells = cv2.resize(region, (4, 2), interpolation=cv2.INTER_AREA)
        smooth = cv2.resize(cells, (right - left, bottom - top), interpolation=cv2.INTER_LINEAR)
        sigma = max(1.0, min(right - left, bottom - top) / 6)
        image[top:bottom, left:right] = cv2.GaussianBlur(smooth, (0, 0), sigma)
        done.append((left, top, right, bottom))
    return done


class Redactor:
    """Finds what to blur on a scene: plates (anpr.detect.PlateDetector) and faces (anpr.faces). Both
    run on the picture at the largest public width, since what they cannot find there is too small
    to read in any public copy."""

    def __init__(self, plates: Detector | None = None, faces: Detector | None = None):
        if plates is None:
            from anpr.detect import PlateDetector

            plates = PlateDetector(conf=0.1, imgsz=max(PUBLIC_WIDTHS))
        if faces is None:
            from anpr.faces import FaceDetector

            faces = FaceDetector()
        self.plates, self.faces = plates, faces

    def redact(
        self, scene: np.ndarray, vehicle_box: tuple | None, *, plates: bool = True
    ) -> tuple[np.ndarray, Redaction]:
        """A copy of `scene` with bystanders' plates (all plates but the one kept: the largest whose
        centre is inside `vehicle_box`; with no box, every plate) and every face blurred."""
        out = scene.copy()
        k = min(1.0, max(PUBLIC_WIDTHS) / scene.shape[1])
        small = cv2.resize(scene, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else scene
        plate_boxes = self._found(self.plates, small, k) if plates else np.empty((0, 4))
        bystanders = _bystander_plates(plate_boxes, vehicle_box)
        faces = self._found(self.faces, small, k)
        blurred_plates = blur_boxes(out, bystanders, PLATE_PAD)
        blurred_faces = blur_boxes(out, faces, FACE_PAD)
        return out, Redaction(0, vehicle_box, tuple(blurred_plates), tuple(blurred_faces))

    @staticmethod
    def _found(detector: Detector, image: np.ndarray, k: float) -> np.ndarray:
        """Boxes in the full picture's pixels."""
        return np.asarray(detector.detect(image).xyxy, dtype=np.float64).reshape(-1, 4) / k


def _bystander_plates(boxes: np.ndarray, vehicle_box: tuple | None) -> np.ndarray:
    if vehicle_box is None or not len(boxes):
        return boxes
    x1, y1, x2, y2 = vehicle_box
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    inside = (cx >= x1) & (cx <= x2) & (cy >= y1) & (cy <= y2)
    if not inside.any():
        return boxes
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept = int(np.argmax(np.where(inside, areas, -1)))
    return np.delete(boxes, kept, axis=0)


def public_stills(
    data: bytes,
    lines: Sequence[str],
    redactor: Redactor,
    *,
    scene: bool = True,
    vehicle_box: tuple | None = None,
    widths: Sequence[int] = PUBLIC_WIDTHS,
    max_bytes: int = MAX_BYTES,
) -> tuple[list[PublicStill], Redaction]:
    """The public copies of one evidence image (JPEG or PNG bytes), one for each of `widths`, each
    with a bar of `lines` under it. The vehicle box is the one drawn on the scene,
    else `vehicle_box` (as recorded); a plate close-up (`scene=False`) keeps its plate."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not an image OpenCV can decode")
    cut = burned_bar_rows(image)
    picture = image[: image.shape[0] - cut] if cut else image
    box = (outlined_box(picture) or _box_within(vehicle_box, picture)) if scene else None
    redacted, done = redactor.redact(picture, box, plates=scene)
    done = replace(done, bar_rows=cut)
    # a width beyond the picture's gives the picture at its own width, at least MIN_WIDTH (a plate
    # close-up is enlarged so that its bar's lines fit)
    sizes = [max(MIN_WIDTH, min(w, redacted.shape[1])) for w in widths]
    return [_encoded(redacted, width, lines, max_bytes) for width in sizes], done


def _box_within(box, image: np.ndarray) -> tuple[int, int, int, int] | None:
    if not box or len(box) != 4:
        return None
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    height, width = image.shape[:2]
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        return None
    return (x1, y1, x2, y2)


def _encoded(image: np.ndarray, width: int, lines: Sequence[str], max_bytes: int) -> PublicStill:
    """At `width` (the bar drawn at that size, so its text stays sharp), as WebP under max_bytes:
    quality steps down from 80, then the picture narrows, until it fits."""
    while True:
        height = max(1, round(image.shape[0] * width / image.shape[1]))
        shrink = width <= image.shape[1]
        sized = cv2.resize(
            image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
        )
        picture = data_bar(sized, lines) if lines else sized
        for quality in (80, 70, 60, 50, 40):
            ok, encoded = cv2.imencode(".webp", picture, [cv2.IMWRITE_WEBP_QUALITY, quality])
            if ok and len(encoded) < max_bytes:
                return PublicStill(width=width, data=encoded.tobytes())
        if not ok:
            raise ValueError("OpenCV cannot encode WebP")
        if width < 200:
            raise ValueError(f"cannot fit the picture in {max_bytes} bytes")
        width = int(width * 0.8)
