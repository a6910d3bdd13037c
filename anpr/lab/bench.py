"""Benchmarks on the held-back validation splits of the dev sets: exact reads per region and
province, detection recall, character confusions, confidence calibration, and speed."""

from __future__ import annotations

import csv
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from anpr.errors import InputError
from anpr.images import crop, load_image
from anpr.lab.datasets import Part, openalpr_photos, part_of, pk_crops
from anpr.ocr.base import PlateReader
from anpr.ocr.level import slanted, turned
from anpr.pipeline import PLATE_PAD, PlateRecognizer
from anpr.plates import REGIONS
from anpr.track import iou
from anpr.types import PlateRead

CALIBRATION_BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.01)


# The columns of one read as Tally.add records it (`anpr bench accuracy --reads`).
READ_FIELDS = ("image", "group", "label", "printed", "read", "confidence", "exact", "exact_as_printed")


@dataclass
class Tally:
    """Counts per group: how many, how many read exactly, and the (confidence, correct) pairs."""

    total: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)
    scored: list[tuple[float, bool]] = field(default_factory=list)
    scored_printed: list[tuple[float, bool]] = field(default_factory=list)  # against the corrections
    confusions: Counter = field(default_factory=Counter)
    corrected: Counter = field(default_factory=Counter)  # exact against OPENALPR_ERRATA's corrections
    seconds: float = 0.0
    reads: int = 0
    rows: list[dict] = field(default_factory=list)  # one per read (READ_FIELDS), for write_reads

    def add(
        self, groups: list[str], truth: str, read: str, confidence: float, printed: str = "", item: str = ""
    ) -> None:
        """One read of `item` (its file); `printed` is what the plate shows where the published label
        `truth` is wrong."""
        ok, as_printed = read == truth, read == (printed or truth)
        for group in groups:
            self.total[group] += 1
            self.correct[group] += ok
            self.corrected[group] += as_printed
        self.scored.append((confidence, ok))
        self.scored_printed.append((confidence, as_printed))
        group = " ".join(g for g in groups if g != "all")
        values = (item, group, truth, printed or truth, read, round(float(confidence), 4), ok, as_printed)
        self.rows.append(dict(zip(READ_FIELDS, values, strict=True)))
        shown = printed or truth  # the reader's confusions, not the published labels' errors
        if not as_printed and len(read) == len(shown):
            self.confusions.update(f"{t}->{r}" for t, r in zip(shown, read, strict=True) if t != r)

    def accuracy(self, group: str, corrected: bool = False) -> float:
        right = (self.corrected if corrected else self.correct)[group]
        return right / self.total[group] if self.total[group] else float("nan")


def write_reads(path, measures: dict[tuple[str, str], Tally]) -> int:
    """Every read of every measure ((set, measure) -> Tally) as one CSV row; the number written."""
    rows = [
        {"set": dataset, "measure": measure, **row}
        for (dataset, measure), tally in measures.items()
        for row in tally.rows
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["set", "measure", *READ_FIELDS])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def calibration(scored: list[tuple[float, bool]]) -> list[tuple[str, int, float]]:
    """(confidence bin, count, accuracy in the bin): a low confidence should mean a likely misread."""
    rows = []
    for low, high in zip(CALIBRATION_BINS, CALIBRATION_BINS[1:], strict=False):
        inside = [ok for conf, ok in scored if low <= conf < high]
        rows.append(
            (
                f"{low:.2f}-{min(high, 1.0):.2f}",
                len(inside),
                float(np.mean(inside)) if inside else float("nan"),
            )
        )
    return rows


def routing(scored: list[tuple[float, bool]], threshold: float) -> tuple[int, int, int, int]:
    """(reads, reads under `threshold`, misreads, misreads under it): how much a reviewer marking
    reads under the threshold looks at, and how many of the misreads that catches."""
    under = [ok for conf, ok in scored if conf < threshold]
    misses = sum(not ok for _, ok in scored)
    return len(scored), len(under), misses, sum(not ok for ok in under)


# openalpr-dev labels box the plate's text; the detector boxes the plate. Detection recall counts
# boxes at the usual IoU 0.5; the end-to-end read is the read of the detection that overlaps the
# labelled text most, at IoU >= 0.3 (a plate box around a small text box can sit below 0.5).
RECALL_IOU, READ_IOU = 0.5, 0.3


def best_overlap(boxes, box) -> tuple[int, float]:
    """The index of the box overlapping `box` most and that IoU; (-1, 0.0) when there is none."""
    overlaps = [iou(candidate, box) for candidate in boxes]
    if not overlaps:
        return -1, 0.0
    index = int(np.argmax(overlaps))
    return index, overlaps[index]


def loaded(items: list, skipped: list[str], progress: Callable) -> Iterator[tuple[int, Any, np.ndarray]]:
    """(index, item, its image) for each labelled item (a `path`) whose image can be read; one that
    cannot is named in `skipped` and counted done for `progress`."""
    for index, item in enumerate(items):
        try:
            image = load_image(item.path)
        except InputError as exc:
            skipped.append(str(exc))
            progress()
            continue
        yield index, item, image


def told_region(label: str) -> str:
    """The region the reader is told for a photo labelled `label`: the label where the reader has its
    layouts, else `auto` (another set may hold plates of countries the grammar lacks)."""
    return label if label in REGIONS else "auto"


def matched_plate(plates: list[PlateRead], box) -> tuple[PlateRead | None, bool]:
    """The read whose box overlaps the labelled box most, if at READ_IOU or more, and whether the
    plate counts as found (some box at RECALL_IOU or more)."""
    placed = [p for p in plates if p.box]
    index, overlap = best_overlap([p.box for p in placed], box)
    return (placed[index] if overlap >= READ_IOU else None), overlap >= RECALL_IOU


@dataclass
class OpenalprTallies:
    """bench_openalpr's figures: the reader on the labelled box and the whole pipeline, each told the
    photo's region and not told it (`auto`, what the CLI does by default), and detection recall."""

    crops: Tally = field(default_factory=Tally)
    pipeline: Tally = field(default_factory=Tally)
    crops_auto: Tally = field(default_factory=Tally)
    pipeline_auto: Tally = field(default_factory=Tally)
    found: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)  # unreadable photos: why, one line each


def bench_openalpr(
    recognizer: PlateRecognizer,
    split: Part = "val",
    progress: Callable = lambda: None,
    root: Path | None = None,
):
    """Per photo: the reader on the labelled box (recognition alone) and the whole pipeline (detection
    + reading: the plate found must read exactly; see matched_plate), given the photo's region; then
    the same two crops read again with the region left to the reader (`auto`). A photo that cannot
    be read is skipped and named in `skipped`, not counted."""
    out = OpenalprTallies()
    photos = part_of(openalpr_photos(root), split)
    for _, photo, image in loaded(photos, out.skipped, progress):
        groups, item = ["all", photo.region], f"{photo.path.parent.name}/{photo.path.name}"
        region = told_region(photo.region)
        labelled = crop(image, photo.box, *PLATE_PAD)
        start = time.perf_counter()
        read = recognizer.reader.read(labelled, region)
        out.crops.seconds += time.perf_counter() - start
        out.crops.reads += 1
        out.crops.add(groups, photo.text, read.text, read.confidence, photo.printed, item)
        start = time.perf_counter()
        result = recognizer.read_image(image, region)
        out.pipeline.seconds += time.perf_counter() - start
        out.pipeline.reads += 1
        best, was_found = matched_plate(result.plates, photo.box)
        out.found["all"] += was_found
        out.found[photo.region] += was_found
        out.pipeline.add(
            groups,
            photo.text,
            best.text if best else "",
            best.confidence if best else 0.0,
            photo.printed,
            item,
        )
        read = recognizer.reader.read(labelled, "auto")
        out.crops_auto.add(groups, photo.text, read.text, read.confidence, photo.printed, item)
        best_read = recognizer.reader.read(crop(image, best.box, *PLATE_PAD), "auto") if best else None
        out.pipeline_auto.add(
            groups,
            photo.text,
            best_read.text if best_read else "",
            best_read.confidence if best_read else 0.0,
            photo.printed,
            item,
        )
        progress()
    return out


# A pasted Pakistani plate's width, in widths of the labelled text box it covers (a US plate is
# about half as wide again as its text).
PASTE_WIDTH = 1.5


def pasted_plate(photo: np.ndarray, box, plate: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A copy of `photo` with `plate` (a plate crop) pasted over the labelled plate in `box`, scaled
    to PASTE_WIDTH times its width and centred on it, kept inside the photo; and the pasted box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    height, width = photo.shape[:2]
    w = min(width, round((x2 - x1) * PASTE_WIDTH))
    h = min(height, max(1, round(w * plate.shape[0] / plate.shape[1])))
    left = min(max(0, round((x1 + x2 - w) / 2)), width - w)
    top = min(max(0, round((y1 + y2 - h) / 2)), height - h)
    out = photo.copy()
    out[top : top + h, left : left + w] = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    return out, (left, top, left + w, top + h)


@dataclass
class PkTallies:
    """bench_pk's figures: `text` must equal series + number, `with_year` the year too."""

    text: Tally = field(default_factory=Tally)
    with_year: Tally = field(default_factory=Tally)
    auto_with_year: Tally = field(default_factory=Tally)
    pasted: Tally = field(default_factory=Tally)
    pasted_with_year: Tally = field(default_factory=Tally)
    skipped: list[str] = field(default_factory=list)  # unreadable crops or car photos: why


def bench_pk(
    recognizer: PlateRecognizer,
    split: Part = "val",
    progress: Callable = lambda: None,
    root: Path | None = None,
) -> PkTallies:
    """Pakistani crops read as Pakistani; then with the region left to the reader (`auto`); and end
    to end: each crop pasted over the plate of a US car photo from the same split (pasted_plate; the
    sets hold no Pakistani car photos), found and read by the whole pipeline."""
    out = PkTallies()
    cars = [p for p in part_of(openalpr_photos(root), split) if p.region == "us"]
    items = [c for c in part_of(pk_crops(root), split) if c.legible]
    for index, item, image in loaded(items, out.skipped, progress):
        start = time.perf_counter()
        read = recognizer.read_plate_image(image, "pk")
        out.text.seconds += time.perf_counter() - start
        out.text.reads += 1
        groups = ["all", item.province.lower(), item.layout]
        truth = f"{item.text}/{item.year or ''}"
        name = item.path.name
        out.text.add(groups, item.text, read.text, read.confidence, item=name)
        out.with_year.add(groups, truth, f"{read.text}/{read.year or ''}", read.confidence, item=name)
        read = recognizer.read_plate_image(image, "auto")
        out.auto_with_year.add(groups, truth, f"{read.text}/{read.year or ''}", read.confidence, item=name)
        if cars:
            car = cars[index % len(cars)]
            try:
                photo, box = pasted_plate(load_image(car.path), car.box, image)
            except InputError as exc:
                out.skipped.append(f"{exc} (no pasted read of {item.path.name})")
                progress()
                continue
            pasted, _ = matched_plate(recognizer.read_image(photo, "pk").plates, box)
            text, year, confidence = (
                (pasted.text, pasted.year or "", pasted.confidence) if pasted else ("", "", 0.0)
            )
            out.pasted.add(groups, item.text, text, confidence, item=name)
            out.pasted_with_year.add(groups, truth, f"{text}/{year}", confidence, item=name)
        progress()
    return out


def bench_speed(recognizer: PlateRecognizer, photos: int = 20, repeats: int = 3) -> dict[str, float]:
    """Median seconds per plate read (one at a time and batched) and per photo end to end, after a
    warm-up, on validation photos: the figures an operator sizes a camera's hardware by."""
    chosen = [p for p in openalpr_photos() if p.split == "val"][:photos]
    images = [load_image(p.path) for p in chosen]
    crops_ = [crop(image, p.box, *PLATE_PAD) for image, p in zip(images, chosen, strict=True)]
    recognizer.read_image(images[0])  # warm-up: loads every model
    recognizer.reader.read_batch(crops_[:2])

    def median_seconds(work: Callable[[], object], per: int) -> float:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            work()
            samples.append((time.perf_counter() - start) / per)
        return float(np.median(samples))

    return {
        "plate_read_single_s": median_seconds(
            lambda: [recognizer.reader.read(c) for c in crops_], len(crops_)
        ),
        "plate_read_batched_s": median_seconds(lambda: recognizer.reader.read_batch(crops_), len(crops_)),
        "photo_end_to_end_s": median_seconds(lambda: [recognizer.read_image(i) for i in images], len(images)),
    }


# Synthetic plates are drawn from this seed, per style, never from the small seeds training uses:
# the same plates on every machine, none of them seen in training.
SYNTHETIC_SEED = 20261202


def bench_synthetic(
    reader: PlateReader, per_style: int = 100, seed: int = SYNTHETIC_SEED, progress: Callable = lambda: None
) -> dict[str, dict[str, int]]:
    """Per plate style of anpr.lab.synth (the layouts the real dev sets lack: ICT, KPK, Balochistan,
    Punjab universal, motorcycles ...): how many of `per_style` fresh synthetic plates read exactly,
    with the year, and with the year when the region is not given. Synthetic plates come from the
    generator the reader trained on, so this finds weak layouts; it is no real-world figure."""
    from anpr.lab.synth import STYLES, render_plate
    from anpr.lab.synth.layouts import region_of

    out = {}
    for index, style in enumerate(STYLES):
        rng = np.random.default_rng([seed, index])
        plates = [render_plate(rng, style) for _ in range(per_style)]
        images = [p.image for p in plates]
        given = reader.read_batch(images, region_of(style))
        auto = reader.read_batch(images, "auto")
        out[style] = {
            "n": per_style,
            "text": sum(r.text == p.text for r, p in zip(given, plates, strict=True)),
            "with_year": sum(_same_plate(r, p) for r, p in zip(given, plates, strict=True)),
            "auto_with_year": sum(_same_plate(r, p) for r, p in zip(auto, plates, strict=True)),
        }
        progress()
    return out


def _same_plate(read: PlateRead, plate) -> bool:
    return read.text == plate.text and (read.year or None) == (plate.year or None)


def read_end_to_end(recognizer: PlateRecognizer, view: np.ndarray, photo, box) -> bool:
    """Whether the whole pipeline, run on `view` (a photo changed by a bench), finds the plate now in
    `box` and reads it as the photo shows it (corrected label; see matched_plate)."""
    found, _ = matched_plate(recognizer.read_image(view, told_region(photo.region)).plates, box)
    return found is not None and found.text == (photo.printed or photo.text)


# Angles (degrees, counter-clockwise) the tilt bench turns the held-back plates by.
TILT_ANGLES = (0.0, 4.0, -4.0, 8.0, -8.0, 12.0)


def turned_box(box, degrees: float) -> tuple[float, float, float, float]:
    """The upright box that holds `box` turned by `degrees` about its centre."""
    x1, y1, x2, y2 = (float(v) for v in box)
    angle = math.radians(abs(degrees))
    w, h = x2 - x1, y2 - y1
    width, height = w * math.cos(angle) + h * math.sin(angle), w * math.sin(angle) + h * math.cos(angle)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def slanted_box(box, degrees: float) -> tuple[float, float, float, float]:
    """The upright box that holds `box` slanted by `degrees` about its centre (anpr.ocr.level.slanted):
    as wide, and taller by its width times the slope."""
    x1, y1, x2, y2 = (float(v) for v in box)
    grow = (x2 - x1) * abs(math.tan(math.radians(degrees))) / 2
    return (x1, y1 - grow, x2, y2 + grow)


def leaning_view(image: np.ndarray, box, degrees: float, slant: bool = False):
    """The photo as a camera turned by `degrees` would show the plate in `box` (the image turned
    about the box's centre), and the upright box that holds the turned plate. With `slant`, as a
    camera beside and above the road shows it instead: the image sheared about the box's centre (its
    lines slant by `degrees`, its vertical strokes stay vertical)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    warp, holder = (slanted, slanted_box) if slant else (turned, turned_box)
    return warp(image, degrees, ((x1 + x2) / 2, (y1 + y2) / 2)), holder(box, degrees)


def turned_plate(
    image: np.ndarray, box, degrees: float, pad_x: float = 0.0, pad_y: float = 0.0, slant: bool = False
):
    """The plate in `box` turned (or, with `slant`, slanted) by `degrees` (leaning_view), cut to the
    upright box that holds it, grown as anpr.images.crop."""
    view, held = leaning_view(image, box, degrees, slant)
    return crop(view, held, pad_x, pad_y)


def turned_crop(image: np.ndarray, degrees: float, slant: bool = False) -> np.ndarray:
    """A plate crop as a camera turned by `degrees` (or, with `slant`, beside and above the road:
    turned_plate) would show it, whole: its edges repeated outward first, so that the turned plate
    keeps its corners in the upright box that holds it (a detector boxes a turned plate that way;
    turning the crop in place would cut its corners off)."""
    height, width = image.shape[:2]
    x1, y1, _, _ = (slanted_box if slant else turned_box)((0, 0, width, height), degrees)
    pad_x, pad_y = math.ceil(-x1), math.ceil(-y1)
    grown = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
    return turned_plate(grown, (pad_x, pad_y, pad_x + width, pad_y + height), degrees, slant=slant)


def bench_tilt(
    reader: PlateReader,
    angles: tuple[float, ...] = TILT_ANGLES,
    split: str = "val",
    progress: Callable = lambda: None,
    slant: bool = False,
    recognizer: PlateRecognizer | None = None,
) -> list[dict]:
    """How the reader copes with plates turned in the picture, as a camera aimed off level shows
    them: per angle, each openalpr-dev photo turned about its plate's centre and read in the box
    that holds the turned plate, with the pipeline's margin and the photo's region (exact against
    the published and the corrected labels), and each legible pk-plates-dev crop turned whole
    (turned_crop) and read as Pakistani (exact with the year). With `slant`, the plates are sheared
    instead, as a camera beside and above the road shows them (turned_plate). With a `recognizer`,
    each changed photo also goes through the whole pipeline (`openalpr_end_to_end`, corrected
    labels: read_end_to_end)."""
    photos = part_of(openalpr_photos(), split)
    images = [load_image(p.path) for p in photos]
    plates = [c for c in part_of(pk_crops(), split) if c.legible]
    crops_ = [load_image(c.path) for c in plates]
    rows = []
    for degrees in angles:
        row = {"degrees": degrees, "openalpr": 0, "openalpr_corrected": 0, "openalpr_end_to_end": 0}
        for photo, image in zip(photos, images, strict=True):
            view, held = leaning_view(image, photo.box, degrees, slant)
            read = reader.read(crop(view, held, *PLATE_PAD), told_region(photo.region))
            row["openalpr"] += read.text == photo.text
            row["openalpr_corrected"] += read.text == (photo.printed or photo.text)
            if recognizer is not None:
                row["openalpr_end_to_end"] += read_end_to_end(recognizer, view, photo, held)
        views = [turned_crop(c, degrees, slant) for c in crops_]
        reads = reader.read_batch(views, "pk") if views else []
        row["pk_with_year"] = sum(_same_plate(r, c) for r, c in zip(reads, plates, strict=True))
        row.update(openalpr_n=len(photos), pk_n=len(plates))
        rows.append(row)
        progress()
    return rows


# Plate widths (pixels) the resolution bench shrinks the held-back plates to.
RESOLUTION_WIDTHS = (30, 40, 50, 60, 80, 100)


def shrunk(image: np.ndarray, scale: float) -> np.ndarray:
    """The image scaled down by `scale` (< 1) with area averaging, as a coarser sensor sees it."""
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def bench_resolution(
    reader: PlateReader,
    widths: tuple[int, ...] = RESOLUTION_WIDTHS,
    split: str = "val",
    progress: Callable = lambda: None,
    recognizer: PlateRecognizer | None = None,
) -> list[dict]:
    """How small a plate the reader still reads. The same plates at every width: the held-back ones
    at least as wide as the widest width as photographed (openalpr-dev: the labelled text box;
    legible pk-plates-dev crops: the whole crop). First as photographed (width 0), then per width: each photo
    shrunk until its text box is that wide and read in the box with the pipeline's margin and the
    photo's region (exact against the published and the corrected labels), each crop shrunk to
    that width and read as Pakistani (exact, and exact with the year). With a `recognizer`, each
    shrunk photo also goes through the whole pipeline (`openalpr_end_to_end`, corrected labels; the
    plate must be found and read, see matched_plate): whether the detectors find a plate that small."""
    widest = max(widths)
    photos = [p for p in part_of(openalpr_photos(), split) if p.box[2] - p.box[0] >= widest]
    images = [load_image(p.path) for p in photos]
    pk = [c for c in part_of(pk_crops(), split) if c.legible]
    kept = [(c, image) for c, image in ((c, load_image(c.path)) for c in pk) if image.shape[1] >= widest]
    rows = []
    for width in (0, *widths):
        row = {"width": width, "openalpr": 0, "openalpr_corrected": 0, "openalpr_end_to_end": 0}
        for photo, image in zip(photos, images, strict=True):
            scale = width / (photo.box[2] - photo.box[0]) if width else 1.0
            box = tuple(v * scale for v in photo.box)
            view = shrunk(image, scale) if width else image
            read = reader.read(crop(view, box, *PLATE_PAD), told_region(photo.region))
            row["openalpr"] += read.text == photo.text
            row["openalpr_corrected"] += read.text == (photo.printed or photo.text)
            if recognizer is not None:
                row["openalpr_end_to_end"] += read_end_to_end(recognizer, view, photo, box)
        views = [shrunk(image, width / image.shape[1]) if width else image for _, image in kept]
        reads = reader.read_batch(views, "pk") if views else []
        row["pk"] = sum(r.text == c.text for r, (c, _) in zip(reads, kept, strict=True))
        row["pk_with_year"] = sum(_same_plate(r, c) for r, (c, _) in zip(reads, kept, strict=True))
        row.update(openalpr_n=len(photos), pk_n=len(kept))
        rows.append(row)
        progress()
    return rows
