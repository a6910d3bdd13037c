"""Pack what training reads onto another machine (a rented or lent GPU): the training half of the dev
sets and the synthetic plates' fonts, and nothing of the held-back half.

    python -m anpr.lab.train.pack OUT            # then, there: ANPR_DATASETS=OUT/datasets, fonts below

The openalpr-dev photos are cut to a box around the labelled plate, wide enough that no training
draw reaches its edge (`padded_box` grows the labelled box by at most 12 % sideways and 50 %
upwards and downwards), and stored as lossless PNG of the grey image training decodes, under their
own names (the split and the label corrections are keyed by name): the training stream is the same
sample for sample, at about a tenth of the size. A machine holding the pack cannot validate (there
is no held-back half on it); `python -m anpr.lab.train.ocr --report-only` does that where the sets are.
Training with `--detected-share` needs the whole photos (the detectors box the plate in them), so the
pack refuses it (PACKED names the marker file). Fonts are copied from their Debian packages' files
(their own licences allow it) into OUT/fonts, to be put under /usr/local/share/fonts there."""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

import cv2

from anpr.errors import InputError
from anpr.lab.datasets import label_rows, openalpr_photos, pk_crops, shared_datasets

PACKED = "packed.json"
# The cut: the labelled box grown by this share of its width / height, plus a few pixels, each side.
CUT_X, CUT_Y, CUT_PX = 0.5, 1.0, 10


def is_packed(root: Path | None) -> bool:
    return root is not None and (root / PACKED).is_file()


def _write_rows(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)


def pack_openalpr(source: Path, target: Path) -> int:
    """The training half's photos, cut around the plate (grey, lossless) and relabelled; how many."""
    rows = label_rows(source / "labels.csv", ())
    kept = []
    for row, photo in zip(rows, openalpr_photos(source.parent), strict=True):  # one photo per row
        if photo.split != "train":
            continue
        grey = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise InputError(f"{photo.path}: not a readable image")
        height, width = grey.shape
        x1, y1, x2, y2 = photo.box
        grow_x, grow_y = int(CUT_X * (x2 - x1)) + CUT_PX, int(CUT_Y * (y2 - y1)) + CUT_PX
        left, top = max(0, x1 - grow_x), max(0, y1 - grow_y)
        right, bottom = min(width, x2 + grow_x), min(height, y2 + grow_y)
        ok, png = cv2.imencode(".png", grey[top:bottom, left:right])
        out = target / row["image"]  # the name stays (split and errata are keyed by it): PNG inside
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(png.tobytes())
        kept.append(row | {"x": x1 - left, "y": y1 - top})
    _write_rows(target / "labels.csv", kept)
    return len(kept)


def pack_pk(source: Path, target: Path) -> int:
    """The training half's Pakistani crops as they are; how many."""
    rows = label_rows(source / "labels.csv", ())
    kept = []
    for row, crop in zip(rows, pk_crops(source.parent), strict=True):  # one crop per row
        if crop.split != "train":
            continue
        out = target / row["file"]
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(crop.path, out)
        kept.append(row)
    _write_rows(target / "labels.csv", kept)
    return len(kept)


def pack_fonts(target: Path) -> int:
    """The faces the synthetic plates use, as installed here; how many."""
    from anpr.lab.synth.fonts import installed_faces

    target.mkdir(parents=True, exist_ok=True)
    found = installed_faces()
    for name, path in found.items():
        shutil.copy2(path, target / name)
    return len(found)


def pack(out: Path, datasets: Path | None = None) -> dict:
    source = datasets or shared_datasets()
    if source is None or not (source / "openalpr-dev" / "labels.csv").is_file():
        where = datasets or "../shared/datasets"
        raise InputError(f"no dev sets to pack: {where}/openalpr-dev/labels.csv not found")
    if is_packed(source):
        raise InputError(f"{source} is itself a pack")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} is not an empty folder")
    counts = {
        "openalpr-dev": pack_openalpr(source / "openalpr-dev", out / "datasets" / "openalpr-dev"),
        "pk-plates-dev": pack_pk(source / "pk-plates-dev", out / "datasets" / "pk-plates-dev"),
        "fonts": pack_fonts(out / "fonts"),
    }
    (out / "datasets" / PACKED).write_text(json.dumps({"split": "train", "counts": counts}, indent=1))
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m anpr.lab.train.pack", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out", type=Path, help="an empty or new folder")
    parser.add_argument("--datasets", type=Path, help="the dev sets (default: ../shared/datasets)")
    args = parser.parse_args(argv)
    try:
        counts = pack(args.out, args.datasets)
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
    except OSError as exc:  # a full disk, a folder that cannot be written
        raise SystemExit(f"error: {exc.filename or args.out}: {exc.strerror}") from None
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(
        f"{args.out}: {counts['openalpr-dev']} openalpr-dev photos, {counts['pk-plates-dev']} pk-plates-dev"
        f" crops (training half only), {counts['fonts']} fonts, {size / 1e6:.1f} MB; there:"
        f" ANPR_DATASETS={args.out}/datasets, fonts copied under /usr/local/share/fonts"
    )


if __name__ == "__main__":
    main()
