"""Training and validation data for the plate recognizer: line samples (a grey image and the text
the model must read in it) from synthetic plates and the real training splits, augmented.

A one-line plate gives one sample (the whole crop); a two-line plate gives two (its top and bottom
strips, cut the way the reader cuts them: anpr.ocr.lines). Rendering a synthetic plate costs about
7 ms, too much to render every sample on two shared cores, so rendered plates go into a pool that is
refreshed a few plates per batch and sampled with fresh augmentation."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np

from anpr import images
from anpr.lab.datasets import Fold, openalpr_photos, part_of, pk_crops
from anpr.ocr.crnn import ALPHABET
from anpr.ocr.level import turned
from anpr.ocr.lines import line_strips, model_input, to_grey

MAX_LABEL = 12
TIGHT_SHARE = 0.5  # one-line synthetic plates cut to their text line, as openalpr-dev labels them
# Share of synthetic plates drawn from the issue #28 US designs (anpr.lab.synth.us: state and slogan
# lines, stickers, frames, vanity and stacked plates at 60-130 px); the rest is the default mix as
# before, scaled down. docs/notes/synthetic-us.md says how the share is to be decided.
US_DESIGN_SHARE = 0.15


@dataclass(frozen=True)
class PlateItem:
    """A grey plate crop and its printed lines (registration text only, top to bottom). `gap` is the
    known row range between two lines (synthetic plates), used to check the reader's cut."""

    grey: np.ndarray
    lines: tuple[str, ...]
    gap: tuple[int, int] | None = None
    source: str = ""
    boxes: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class ValItem:
    crop: np.ndarray  # BGR
    text: str
    year: str | None
    layout: str
    lines: tuple[str, ...]
    source: str  # "openalpr-dev/us", "pk-plates-dev", ...
    region: str  # the region hint a deployment would give: "us", "eu", "br", "pk"
    printed: str = ""  # what the plate shows where the published `text` is wrong (OPENALPR_ERRATA)


def pk_lines(text: str, year: str | None, layout: str, series_len: int) -> tuple[str, ...]:
    if layout != "two-line":
        return (text,)
    return (text[:series_len] + (year or ""), text[series_len:])


Box = tuple[int, int, int, int]


def real_items(
    split: str, detected: dict[str, Box] | None = None, hold: Fold | None = None
) -> tuple[list[tuple[np.ndarray, Box, str, Box | None]], list[PlateItem]]:
    """Real data of one split: openalpr (photo, labelled box, text, the pipeline's detected box or
    None) kept whole so that training can cut the plate from the photo, and pk crops as PlateItems.
    A `hold` fold of the training half is left out (it is what the run is scored on)."""
    every_photo, every_crop = openalpr_photos(), pk_crops()
    held: set[str] = set()
    if hold:
        held = {p.key for p in part_of(every_photo, hold)} | {c.key for c in part_of(every_crop, hold)}
    photos = []
    for photo in part_of(every_photo, split):
        if photo.key not in held:
            image = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
            assert image is not None, f"cannot read {photo.path}"
            photos.append((image, photo.box, photo.printed, (detected or {}).get(photo.path.name)))
    crops = []
    for crop in part_of(every_crop, split):
        if crop.key not in held:
            series_len = len(crop.text) - len(crop.text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
            grey = cv2.imread(str(crop.path), cv2.IMREAD_GRAYSCALE)
            assert grey is not None, f"cannot read {crop.path}"
            crops.append(PlateItem(grey, pk_lines(crop.text, crop.year, crop.layout, series_len), None, "pk"))
    return photos, crops


def val_items(fold: Fold | None = None) -> list[ValItem]:
    """The validation splits as the reader will see them: openalpr cropped by the labelled box,
    pk crops as they are. With a `fold`, that fold of the training half instead (a run that held
    it out of training is scored on it)."""
    out = []
    for photo in part_of(openalpr_photos(), fold or "val"):
        x1, y1, x2, y2 = photo.box
        image = cv2.imread(str(photo.path))
        assert image is not None, f"cannot read {photo.path}"
        out.append(
            ValItem(
                image[y1:y2, x1:x2],
                photo.text,
                None,
                "one-line",
                (photo.text,),
                f"openalpr-dev/{photo.region}",
                photo.region,
                photo.printed,
            )
        )
    for crop in part_of(pk_crops(), fold or "val"):
        series_len = len(crop.text) - len(crop.text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        lines = pk_lines(crop.text, crop.year, crop.layout, series_len)
        bgr = cv2.imread(str(crop.path))
        assert bgr is not None, f"cannot read {crop.path}"
        out.append(
            ValItem(
                bgr,
                crop.text,
                crop.year,
                crop.layout,
                lines,
                "pk-plates-dev",
                "pk",
            )
        )
    return out


def detected_boxes(split: str) -> dict[str, Box]:
    """For each openalpr photo of a split, the box the shipped detectors give its plate (the
    detection overlapping the labelled text box most, at READ_IOU or more): the crop the reader is
    handed in service, whole plate and detector jitter included. About a second per photo."""
    from anpr.lab.bench import READ_IOU, best_overlap
    from anpr.pipeline import PlateRecognizer

    recognizer, out = PlateRecognizer(), {}
    for photo in openalpr_photos():
        if photo.split == split:
            image = images.load_image(photo.path)
            boxes = recognizer.find_plates(image, recognizer.vehicle_detector.detect(image)).xyxy
            index, overlap = best_overlap(boxes, photo.box)
            if overlap >= READ_IOU:
                out[photo.path.name] = cast(Box, tuple(int(round(v)) for v in boxes[index]))  # x1 y1 x2 y2
    return out


def detector_crop(rng: np.random.Generator, image: np.ndarray, box) -> np.ndarray:
    """A detected plate box cut with the pipeline's margin (anpr.pipeline.PLATE_PAD), jittered:
    moved a little and grown by zero to twice the margin."""
    from anpr.pipeline import PLATE_PAD

    x1, y1, x2, y2 = box
    shift = rng.normal(0, 0.02, 2) * (x2 - x1, y2 - y1)
    moved = (x1 + shift[0], y1 + shift[1], x2 + shift[0], y2 + shift[1])
    grey = images.crop(image, moved, *(rng.uniform(0.0, 2.0, 2) * PLATE_PAD))
    return grey if grey.shape[0] >= 4 and grey.shape[1] >= 8 else padded_box(rng, image, box)


def padded_box(rng: np.random.Generator, image: np.ndarray, box) -> np.ndarray:
    """The labelled box grown (or shrunk a little) on each side, as a detector's box would be."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    dx = rng.uniform(-0.03, 0.12, 2) * w
    dy = rng.uniform(-0.04, 0.5 if rng.random() < 0.2 else 0.18, 2) * h  # sometimes the whole plate
    shift = rng.normal(0, 0.02, 2) * (w, h)
    H, W = image.shape[:2]
    a = (int(max(0, x1 - dx[0] + shift[0])), int(max(0, y1 - dy[0] + shift[1])))
    b = (int(min(W, x2 + dx[1] + shift[0])), int(min(H, y2 + dy[1] + shift[1])))
    return image[a[1] : max(a[1] + 4, b[1]), a[0] : max(a[0] + 8, b[0])]


def pad_crop(
    rng: np.random.Generator, grey: np.ndarray, lo: float = -0.03, hi: float = 0.1
) -> tuple[np.ndarray, int]:
    """A crop grown with replicated border or trimmed a little on each side; returns the new image and
    the vertical offset of the old top row."""
    h, w = grey.shape
    top, bottom = (rng.uniform(lo, hi, 2) * h).astype(int)
    left, right = (rng.uniform(lo, hi, 2) * w).astype(int)
    image = cv2.copyMakeBorder(
        grey,
        max(0, top),
        max(0, bottom),
        max(0, left),
        max(0, right),
        cv2.BORDER_REPLICATE if rng.random() < 0.6 else cv2.BORDER_CONSTANT,
        value=int(rng.integers(0, 256)),
    )
    trim_t, trim_b, trim_l, trim_r = max(0, -top), max(0, -bottom), max(0, -left), max(0, -right)
    image = image[trim_t : image.shape[0] - trim_b, trim_l : image.shape[1] - trim_r]
    return image, max(0, top) - trim_t


def warp(rng: np.random.Generator, grey: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Small rotation, shear and scale about the centre (border replicated)."""
    h, w = grey.shape
    angle = rng.normal(0, 2.5) * strength
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0 + rng.normal(0, 0.03) * strength)
    m[0, 1] += rng.normal(0, 0.06) * strength
    return cv2.warpAffine(grey, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def tilted(rng: np.random.Generator, grey: np.ndarray, degrees: float) -> np.ndarray:
    """The crop rotated about its centre by a normal angle of `degrees` spread (at most 3 of them),
    border replicated: a plate tilted in its box, as a detector's upright box holds it."""
    return turned(grey, float(np.clip(rng.normal(0, degrees), -3 * degrees, 3 * degrees)))


def wear(rng: np.random.Generator, grey: np.ndarray) -> np.ndarray:
    """What real plates have over the text: bolts and rivets (often on the small year digits), and
    strokes thicker or thinner than the fonts draw them."""
    image = grey.copy()
    h, w = image.shape
    if rng.random() < 0.25:
        for _ in range(int(rng.integers(1, 3))):
            centre = (int(rng.uniform(0.15, 0.95) * w), int(rng.uniform(0.05, 0.6) * h))
            radius = max(1, int(rng.uniform(0.03, 0.07) * h))
            shade = int(rng.integers(20, 90)) if rng.random() < 0.5 else int(rng.integers(170, 250))
            cv2.circle(image, centre, radius, shade, -1, cv2.LINE_AA)
            cv2.circle(image, centre, radius, 255 - shade, 1, cv2.LINE_AA)
    if h >= 24 and rng.random() < 0.2:
        kernel = np.ones((2, 2), np.uint8)
        image = cv2.erode(image, kernel) if rng.random() < 0.5 else cv2.dilate(image, kernel)
    return image


def photometric(rng: np.random.Generator, grey: np.ndarray) -> np.ndarray:
    """Camera effects on a grey crop: resolution loss, blur, contrast, gamma, noise, JPEG, and rarely
    inverted polarity (light text on dark plates)."""
    image = grey
    h, w = image.shape
    if rng.random() < 0.5:  # seen from further away
        f = rng.uniform(0.25, 0.9)
        small = cv2.resize(image, (max(8, int(w * f)), max(4, int(h * f))), interpolation=cv2.INTER_AREA)
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        k = rng.uniform(0.3, 1.2) * max(1.0, h / 40)
        image = cv2.GaussianBlur(image, (0, 0), k)
    if rng.random() < 0.15:  # horizontal motion blur
        n = int(rng.integers(2, max(3, w // 25)))
        image = cv2.filter2D(image, -1, np.ones((1, n), np.float32) / n)
    x: np.ndarray = image.astype(np.float32)
    if rng.random() < 0.8:
        lo, hi = np.percentile(x, (2, 98))
        contrast = rng.uniform(0.35, 1.3)
        mid = rng.uniform(60, 190)
        x = (x - (lo + hi) / 2) * contrast + mid
    if rng.random() < 0.3:
        x = 255 * (np.clip(x, 0, 255) / 255) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.5:
        x += rng.normal(0, rng.uniform(2, 12), x.shape)
    if rng.random() < 0.05:
        x = 255 - x
    image = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        if ok:
            decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
            assert decoded is not None  # OpenCV decodes what it just encoded
            image = decoded
    return image


def line_samples(
    rng: np.random.Generator, item: PlateItem, gap: tuple[int, int] | None = None
) -> list[tuple[np.ndarray, str]]:
    """(image, text) samples of one augmented plate: the whole crop for one line, the two strips
    for two. The cut is the reader's own, nudged, and moved into the known gap when it misses."""
    if len(item.lines) == 1:
        return [(item.grey, item.lines[0])]
    if len(item.lines) != 2:
        return []
    from anpr.ocr.lines import cut_row

    h = item.grey.shape[0]
    cut = cut_row(item.grey) + int(rng.normal(0, 0.02 * h))
    if gap is not None and not gap[0] - 0.04 * h <= cut <= gap[1] + 0.04 * h:
        cut = (gap[0] + gap[1]) // 2 + int(rng.normal(0, 0.015 * h))
    top, bottom = line_strips(item.grey, min(h - 2, max(2, cut)))
    return [(top, item.lines[0]), (bottom, item.lines[1])]


def encode(text: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in text if c in ALPHABET][:MAX_LABEL]


class SyntheticPool:
    """Rendered synthetic plates (grey, lines, gap), refreshed a few at a time."""

    def __init__(self, rng: np.random.Generator, size: int, start: int, us_designs: float = 0.0) -> None:
        self.rng, self.size, self.items = rng, size, []
        self.us_designs = us_designs
        for _ in range(start):
            self.items.append(self.render())

    def render(self) -> PlateItem:
        from anpr.lab.synth import render_plate

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plate = render_plate(self.rng, us_designs=self.us_designs)
        gap = None
        if len(plate.line_boxes) == 2:
            gap = (plate.line_boxes[0][3], plate.line_boxes[1][1])
            gap = (min(gap), max(gap))
        grey = to_grey(plate.image)
        assert grey is not None  # rendered plates are larger than anpr.ocr.lines.MIN_CROP
        return PlateItem(grey, plate.lines, gap, plate.style, plate.line_boxes)

    def refresh(self, n: int) -> None:
        for _ in range(n):
            item = self.render()
            if len(self.items) < self.size:
                self.items.append(item)
            else:
                self.items[int(self.rng.integers(len(self.items)))] = item

    def draw(self) -> PlateItem:
        return self.items[int(self.rng.integers(len(self.items)))]


def training_samples(
    seed: int,
    real_share: float = 0.3,
    pool_size: int = 12000,
    pool_start: int = 1500,
    refresh_per_batch: int = 4,
    batch: int = 64,
    prepare: Callable[[np.ndarray], np.ndarray] = model_input,
    detected: dict[str, Box] | None = None,
    detected_share: float = 0.0,
    tilt: float = 0.0,
    us_designs: float = US_DESIGN_SHARE,
    hold: Fold | None = None,
) -> Iterator[tuple[np.ndarray, list[int]]]:
    """Endless (model input, label) pairs: synthetic plates from the pool and the real training
    splits, oversampled to `real_share` of the samples, all freshly augmented; `prepare` turns a
    grey line strip into the model's input. An openalpr photo with a `detected` box (detected_boxes)
    is cut there, with the pipeline's margin, in `detected_share` of its draws. `us_designs` is the
    share of synthetic plates drawn from the US designs (0: the stream as before them). A `hold`
    fold of the training half is left out of the real samples (None: the whole half)."""
    rng = np.random.default_rng(seed)
    photos, crops = real_items("train", detected, hold)
    if real_share > 0 and not (photos or crops):
        from anpr.errors import InputError

        raise InputError("no real training photos: ../shared/datasets not found (set ANPR_DATASETS)")
    pool = SyntheticPool(rng, pool_size, pool_start, us_designs) if real_share < 1 else None
    emitted = 0
    while True:
        if pool is not None and emitted % batch == 0:
            pool.refresh(refresh_per_batch)
        if pool is None or rng.random() < real_share:
            if rng.random() < len(photos) / (len(photos) + 1.6 * len(crops)):
                image, box, text, found = photos[int(rng.integers(len(photos)))]
                if found is not None and rng.random() < detected_share:
                    grey = detector_crop(rng, image, found)
                else:
                    grey = padded_box(rng, image, box)
                item = PlateItem(warp(rng, grey), (text,), None, "openalpr")
            else:
                base = crops[int(rng.integers(len(crops)))]
                grey, _ = pad_crop(rng, base.grey)
                item = PlateItem(warp(rng, grey), base.lines, None, "pk")
            item = PlateItem(photometric(rng, wear(rng, item.grey)), item.lines, None, item.source)
            gap = None
        else:
            base = pool.draw()
            if len(base.lines) == 1 and base.boxes and rng.random() < TIGHT_SHARE:
                base = PlateItem(padded_box(rng, base.grey, base.boxes[0]), base.lines, None, base.source)
            grey, offset = pad_crop(rng, base.grey, -0.02, 0.05)
            grey = wear(rng, grey)
            if rng.random() < 0.5:
                grey = photometric(rng, grey)
            item = PlateItem(grey, base.lines, None, base.source)
            gap = (base.gap[0] + offset, base.gap[1] + offset) if base.gap else None
        if tilt > 0:
            item = PlateItem(tilted(rng, item.grey, tilt), item.lines, None, item.source)
        for image, text in line_samples(rng, item, gap):
            label = encode(text)
            if label and image.shape[0] >= 4 and image.shape[1] >= 8:
                emitted += 1
                yield prepare(image), label
