"""`anpr read`: plates in photos, one JSON object per image with --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from anpr.cli.common import checked_region
from anpr.plates.formats import REGIONS

RegionOption = Annotated[
    str,
    typer.Option(
        "--region",
        help="Plate grammar to rank reads by: auto, " + ", ".join(REGIONS) + ".",
        callback=checked_region,
    ),
]


def read(
    images: Annotated[
        list[Path],
        typer.Argument(help="Photos of vehicles (or plate crops with --crop).", show_default=False),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per image (JSON lines).")] = False,
    region: RegionOption = "auto",
    plate_crop: Annotated[
        bool, typer.Option("--crop", help="Each image is already cropped to one plate.")
    ] = False,
    reader: Annotated[
        str, typer.Option(help="Plate reader: auto (the trained recognizer), crnn, rapidocr, easyocr.")
    ] = "auto",
) -> None:
    """Find and read number plates in photos.

    Prints each plate's registration (series + number; a Pakistani registration year is reported
    separately), its confidence, the alternatives considered and the vehicle it belongs to. An image
    no larger than 320x240 in which no plate is found is read whole as a plate crop. A read
    under 0.80 confidence is marked "check": most misreads on the validation sets fell there. The
    region is the one whose plate layouts the read fits (or --region), "?" where layouts of several
    fit it (ABC1234: Brazil, Punjab, some US states).

    A plate box whose read fits no plate layout of the region, or is too unsure to be a plate
    (docs/notes/unread-floor.md), is not listed: "unread" counts such boxes. With --crop the one
    plate is always printed, with empty text when unread.

    Example: `anpr read car.jpg --json --region pk`
    """
    from anpr.errors import AnprError
    from anpr.images import load_image
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer
    from anpr.weights import WeightsError

    recognizer = PlateRecognizer(reader=get_reader(reader))
    failures = 0
    for path in images:
        record: dict[str, Any] = {
            "image": str(path),
            "plates": [],
            "unread": 0,
            "vehicles": [],
            "error": None,
        }
        try:
            image = load_image(path)
            if plate_crop:
                record["plates"] = [recognizer.read_plate_image(image, region).to_json()]
            else:
                result = recognizer.read_photo(image, region)
                if result.read_whole:
                    height, width = image.shape[:2]
                    typer.echo(
                        f"note: {path}: no plate found in a {width}x{height} image; read whole as a plate"
                        " crop (--crop says so)",
                        err=True,
                    )
                record["vehicles"] = [v.to_json() | {"plate": None} for v in result.vehicles]
                for plate, vehicle in zip(result.plates, result.plate_vehicle, strict=True):
                    if not plate.text:  # unread: counted, not listed beside the plates that were read
                        record["unread"] += 1
                        continue
                    record["plates"].append(plate.to_json() | {"vehicle": vehicle if vehicle >= 0 else None})
        except WeightsError:  # no image can be read without the models: one line, not one per image
            raise
        except AnprError as exc:
            failures += 1
            record["error"] = str(exc)
            typer.echo(f"error: {exc}", err=True)
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            _print_table(record)
    if failures:
        raise typer.Exit(1)


def _print_table(record: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from anpr.types import SHOWN_YEAR_SHARE, UNCERTAIN_READ, is_uncertain

    if record["error"]:
        return
    unsure = [p for p in record["plates"] if is_uncertain(p["text"], p["confidence"])]
    table = Table(title=record["image"], title_justify="left")
    for column in ("plate", "year", "conf", "region", "vehicle", "alternatives"):
        table.add_column(column)
    for plate in record["plates"]:
        vehicle = (
            record["vehicles"][plate["vehicle"]]["vehicle_type"] if plate.get("vehicle") is not None else ""
        )
        alternatives = ", ".join(c["text"] for c in plate["candidates"][1:4])
        shown = plate.get("year_candidates", [])[1:3]
        years = [c["text"] for c in shown if c["confidence"] >= SHOWN_YEAR_SHARE]
        table.add_row(
            plate["text"] or "(unreadable)",
            (plate["year"] or "") + (f" (or {', '.join(years)})" if years else ""),
            f"{plate['confidence']:.2f}" + (" [yellow]check[/yellow]" if plate in unsure else ""),
            plate["region"],
            vehicle,
            alternatives,
        )
    if record.get("unread"):
        boxes = "box" if record["unread"] == 1 else "boxes"
        table.add_row(f"({record['unread']} unreadable plate {boxes})", "", "", "", "", "")
    elif not record["plates"]:
        table.add_row("(no plate found)", "", "", "", "", "")
    if unsure:
        table.caption = (
            f"check: under {UNCERTAIN_READ:.2f} confidence, where most misreads on the validation sets fell;"
            " compare each character with the photo"
        )
    Console().print(table)
