"""The labelled development sets in ../shared/datasets (never copied into the project), and the one
train/validation split every trainer and benchmark uses. Validation items are never trained on."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
class Fold:
    """Fold `index` of `count` (1 to count) of the training half: a decision (a share, a constant)
    is made by training without it and scoring on it, so that the validation half stays unread."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 2:
            raise ValueError(f"fold {self.index}/{self.count}: needs at least 2 folds")
        if not 1 <= self.index <= self.count:
            raise ValueError(f"fold {self.index}/{self.count}: the fold must be 1 to {self.count}")

    @classmethod
    def parse(cls, text: str) -> Fold:
        """'I/K' (fold I of K); ValueError saying what is wrong."""
        index, slash, count = text.partition("/")
        if not slash or not index.strip().isdigit() or not count.strip().isdigit():
            raise ValueError(f"a fold is I/K, fold I of K (such as 2/5), not {text!r}")
        return cls(int(index), int(count))

    def __str__(self) -> str:
        return f"fold {self.index}/{self.count} of the training half"


# What a bench or the trainer reads: "train" or "val" (a half), "all", or a Fold of the training half.
Part = str | Fold


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
    key: str = ""  # what split_of and folds_of hash: the image's name in the set


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
    key: str = ""  # what split_of and folds_of hash: registration and year, one per plate


Labelled = TypeVar("Labelled", LabelledPhoto, LabelledCrop)


def folds_of(items: Sequence[LabelledPhoto | LabelledCrop], count: int) -> dict[str, int]:
    """The fold (1 to `count`) of each training-half key among `items` (a whole set, as
    openalpr_photos or pk_crops gives it); validation keys are in none. Within each group (a region's
    photos; the Pakistani plates, all photos of a plate one key) the keys are ordered by a SHA-1
    salted apart from split_of's and dealt out in turn, so every fold holds an equal share of each
    region, give or take one: hashing each key alone left 3-fold shares of the Brazilian photos at
    7, 6 and 16. The same set gives the same folds on every machine (a pack of the training half too)."""
    groups: dict[str, set[str]] = {}
    for item in items:
        if item.split == "train":
            groups.setdefault(item.region if isinstance(item, LabelledPhoto) else "pk", set()).add(item.key)
    folds, dealt = {}, 0
    for _, keys in sorted(groups.items()):
        for key in sorted(keys, key=lambda k: hashlib.sha1(f"fold/{k}".encode()).digest()):
            folds[key] = dealt % count + 1
            dealt += 1
    return folds


def part_of(items: list[Labelled], part: Part) -> list[Labelled]:
    """The items of `part`: a half ("train", "val"), "all", or a Fold of the training half. Pass a
    whole set (before any other filter): the folds are dealt over its training half."""
    if isinstance(part, Fold):
        folds = folds_of(items, part.count)
        return [item for item in items if folds.get(item.key) == part.index]
    return [item for item in items if part == "all" or item.split == part]


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
                row["image"],
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
        key = f"{text}/{row['year']}"
        crops.append(
            LabelledCrop(
                root / row["file"],
                text,
                year_label(row["year"] or ""),
                row["province"],
                row["layout"],
                row["legible"].strip().lower() == "yes",
                split_of(key),
                key,
            )
        )
    return crops
