"""The labelled development sets in ../shared/datasets (never copied into the project), and the one
train/validation split every trainer and benchmark uses. Validation items are never trained on."""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from anpr.weights import PROJECT_ROOT


def shared_datasets() -> Path | None:
    """The datasets folder, or None where it is absent (tests and benchmarks then skip)."""
    path = Path(os.environ.get("ANPR_DATASETS", PROJECT_ROOT.parent / "shared" / "datasets"))
    return path if path.is_dir() else None


def split_of(key: str) -> str:
    """'train' or 'val', stable across machines and runs: half of the keys by SHA-1."""
    return "val" if hashlib.sha1(key.encode()).digest()[0] % 2 else "train"


@dataclass(frozen=True)
class LabelledPhoto:
    """A car photo with one labelled plate (openalpr-dev)."""

    path: Path
    region: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    text: str
    split: str


@dataclass(frozen=True)
class LabelledCrop:
    """A photo already cropped to a Pakistani plate (pk-plates-dev)."""

    path: Path
    text: str  # series + number
    year: str | None
    province: str
    layout: str
    legible: bool
    split: str


def openalpr_photos(root: Path | None = None) -> list[LabelledPhoto]:
    root = (root or shared_datasets() or Path("/nonexistent")) / "openalpr-dev"
    photos = []
    with (root / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            x, y, w, h = (int(row[k]) for k in ("x", "y", "w", "h"))
            photos.append(
                LabelledPhoto(
                    root / row["image"],
                    row["region"],
                    (x, y, x + w, y + h),
                    row["plate"].upper(),
                    split_of(row["image"]),
                )
            )
    return photos


def pk_crops(root: Path | None = None) -> list[LabelledCrop]:
    """Photos of the same plate share a split: the key is the registration, not the file."""
    root = (root or shared_datasets() or Path("/nonexistent")) / "pk-plates-dev"
    crops = []
    with (root / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row["series"] + row["number"]).upper().replace(" ", "").replace("-", "")
            crops.append(
                LabelledCrop(
                    root / row["file"],
                    text,
                    row["year"] or None,
                    row["province"],
                    row["layout"],
                    row["legible"].strip().lower() == "yes",
                    split_of(f"{text}/{row['year']}"),
                )
            )
    return crops
