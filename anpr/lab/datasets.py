"""The labelled development sets in ../shared/datasets (never copied into the project), and the one
train/validation split every trainer and benchmark uses. Validation items are never trained on."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from anpr.plates.formats import normalise  # labels as the reader writes plates: A-Z, 0-9
from anpr.settings import environment
from anpr.weights import PROJECT_ROOT


def shared_datasets() -> Path | None:
    """The datasets folder, or None where it is absent (tests and benchmarks then skip)."""
    path = environment().datasets or PROJECT_ROOT.parent / "shared" / "datasets"
    return path if path.is_dir() else None


# Published openalpr-dev labels that disagree with what the photo plainly shows, each checked by eye
# on the photo: image -> (the published label, what the plate shows, why). Training reads the plate
# as printed (a wrong label teaches the reader that a Slovak zero is an O); the benchmarks score
# against the published labels and report the score against these corrections beside it. Only
# clear cases are listed; a plate too small to be sure of (us/33fa5185..., R820503) stays as published.
OPENALPR_ERRATA: dict[str, tuple[str, str, str]] = {
    "eu/eu5.jpg": ("OYO9FEU", "OY09FEU", "GB plate OY09 FEU: the age identifier is two digits"),
    "eu/test_006.jpg": ("RKO99AN", "RK099AN", "Slovak plate RK-099AN: three digits follow the district"),
    "eu/test_024.jpg": ("RKO26AJ", "RK026AJ", "Slovak plate RK-026AJ: three digits follow the district"),
    "eu/test_056.jpg": ("RK3OOAG", "RK300AG", "Slovak plate RK-300AG: three digits follow the district"),
    "us/wts-lg-000159.jpg": ("59E21P1", "59321P1", "California plate 59321P1: the third character is a 3"),
    "br/FZB9581.jpg": ("FZB9581", "FBZ9581", "the plate reads FBZ-9581 (label and file name swap B and Z)"),
}


def split_of(key: str) -> str:
    """'train' or 'val', stable across machines and runs: half of the keys by SHA-1."""
    return "val" if hashlib.sha1(key.encode()).digest()[0] % 2 else "train"


@dataclass(frozen=True)
class LabelledPhoto:
    """A car photo with one labelled plate (openalpr-dev). `text` is the published label, `printed`
    what the plate shows (the same unless OPENALPR_ERRATA corrects it)."""

    path: Path
    region: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    text: str
    split: str
    printed: str = ""


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


def label_rows(labels: Path, columns: tuple[str, ...]) -> list[dict]:
    """The rows of a set's labels.csv; none where the set is absent. InputError when it lacks one of
    `columns` or cannot be read."""
    from anpr.errors import InputError

    if not labels.is_file():
        return []
    try:
        with labels.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{labels}: no column {', '.join(missing)} (needs {', '.join(columns)})")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{labels}: cannot be read ({exc})") from exc


def year_label(value: str) -> str | None:
    """A Pakistani registration year as the reader gives it, two digits ('2012' is 12); None if blank."""
    digits = re.sub(r"\D", "", value)
    return digits[-2:] if digits else None


def openalpr_photos(root: Path | None = None) -> list[LabelledPhoto]:
    """The labelled car photos; none where the set is absent. InputError for a row whose box is not
    four numbers."""
    from anpr.errors import InputError

    root = (root or shared_datasets() or Path("/nonexistent")) / "openalpr-dev"
    photos = []
    for line, row in enumerate(
        label_rows(root / "labels.csv", ("image", "region", "x", "y", "w", "h", "plate")), 2
    ):
        try:
            x, y, w, h = (round(float(row[k])) for k in ("x", "y", "w", "h"))
        except (TypeError, ValueError):
            raise InputError(
                f"{root / 'labels.csv'}, line {line}: the box x, y, w, h is not four numbers"
            ) from None
        text = normalise(row["plate"] or "")
        published, printed, _ = OPENALPR_ERRATA.get(row["image"], (text, text, ""))
        photos.append(
            LabelledPhoto(
                root / row["image"],
                (row["region"] or "").strip().lower(),
                (x, y, x + w, y + h),
                text,
                split_of(row["image"]),
                printed if published == text else text,
            )
        )
    return photos


def pk_crops(root: Path | None = None) -> list[LabelledCrop]:
    """The labelled Pakistani crops; none where the set is absent. Photos of the same plate share a
    split: the key is the registration, not the file."""
    root = (root or shared_datasets() or Path("/nonexistent")) / "pk-plates-dev"
    crops = []
    columns = ("file", "series", "year", "number", "province", "layout", "legible")
    for row in label_rows(root / "labels.csv", columns):
        text = normalise((row["series"] or "") + (row["number"] or ""))
        crops.append(
            LabelledCrop(
                root / row["file"],
                text,
                year_label(row["year"] or ""),
                row["province"],
                row["layout"],
                row["legible"].strip().lower() == "yes",
                split_of(f"{text}/{row['year']}"),
            )
        )
    return crops
