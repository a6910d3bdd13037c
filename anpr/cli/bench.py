"""`anpr bench`: accuracy and speed on the dev sets' validation splits (figures for the README)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Benchmarks on ../shared/datasets (validation splits only).",
    no_args_is_help=True,
)

ReaderOption = Annotated[str, typer.Option(help="Plate reader: auto, crnn, rapidocr, easyocr.")]
SplitOption = Annotated[
    Literal["val", "train", "all"], typer.Option(help="val (held back, the figure to quote), train or all.")
]


DatasetsOption = Annotated[
    Path | None,
    typer.Option(help="The folder holding openalpr-dev/ and pk-plates-dev/ (default: ../shared/datasets)."),
]


def _require_datasets() -> Path:
    """The dev sets' folder, or a one-line error where there is none."""
    from anpr.lab.datasets import shared_datasets

    root = shared_datasets()
    if root is None:
        raise typer.BadParameter("../shared/datasets not found; set ANPR_DATASETS to its path")
    return root


def _numbers(text: str, convert: Callable[[str], float], option: str, kind: str) -> tuple:
    """A comma-separated option's values, or a one-line error naming the option and what it takes."""
    try:
        return tuple(convert(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{option} must be {kind} separated by commas, got {text!r}") from None


def _fold_part(fold: str | None, split: str):
    """What `bench accuracy` reads: --split's half, or --fold's fold of the training half (with
    --split left at its default); a one-line error for a bad fold."""
    from anpr.lab.datasets import Fold

    if fold is None:
        return split
    if split != "val":
        raise typer.BadParameter(
            "--fold picks a fold of the training half: leave --split out", param_hint="--fold"
        )
    try:
        return Fold.parse(fold)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fold") from None


@app.command()
def accuracy(
    reader: ReaderOption = "auto",
    split: SplitOption = "val",
    datasets: DatasetsOption = None,
    reads: Annotated[
        Path | None,
        typer.Option(
            help="Also write every read to this CSV (label, read, confidence, exact), one row per "
            "plate and measure: the misreads to look at."
        ),
    ] = None,
    fold: Annotated[
        str | None,
        typer.Option(
            metavar="I/K",
            help="Instead of the validation half, fold I of K of the training half (such as 2/5): the "
            "figure to decide on (docs/notes/validation-protocol.md), never a validation figure.",
        ),
    ] = None,
) -> None:
    """Exact plate reads per region and province, detection recall, confusions, calibration.

    Another copy of the sets, laid out the same way (labels.csv in each), is scored with
    --datasets DIR --split all. --fold I/K scores a fold of the training half instead."""
    from rich.console import Console
    from rich.progress import Progress

    from anpr.lab.bench_report import measure_accuracy, plates_to_read, print_accuracy
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    part = _fold_part(fold, split)
    if datasets is not None and not datasets.is_dir():
        raise typer.BadParameter(f"{datasets} is not a folder", param_hint="--datasets")
    root = datasets or _require_datasets()
    count = plates_to_read(root, part)
    if not count:
        raise typer.BadParameter(
            f"no labelled plates in {root} for {f'--fold {fold}' if fold else f'--split {split}'}"
        )
    recognizer = PlateRecognizer(reader=get_reader(reader))
    with Progress(transient=True) as progress:
        task = progress.add_task("benchmarking", total=count)
        run = measure_accuracy(recognizer, split=part, root=root, progress=lambda: progress.advance(task))
    print_accuracy(run, Console(), reads)


@app.command()
def video(
    photos: Annotated[int, typer.Option(help="How many real validation photos to drive down the road.")] = 12,
    footage: Annotated[bool, typer.Option(help="Also the real car-park clip (tracks and speeds).")] = True,
    realtime: Annotated[
        bool,
        typer.Option(
            "--realtime",
            help="Instead: real-time factors on one 1080p 25 fps road clip of validation photos, read "
            "three ways (decoding only, every model on every frame, `anpr process` as shipped), with "
            "per-vehicle reads and speed errors.",
        ),
    ] = False,
    cars: Annotated[
        int, typer.Option(min=4, help="With --realtime: cars in the clip (a fifth close-ups, at least two).")
    ] = 12,
    seed: Annotated[int, typer.Option(help="With --realtime: picks the photos and plans the clip.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --realtime: JSON lines instead of the tables.")
    ] = False,
) -> None:
    """Speed error and per-vehicle reads on clips made from real photos, and the real car-park clip.

    Each photo (openalpr-dev validation half) is cut out and driven down a drawn road at a known
    speed through the whole `process` pipeline; nothing is written into the project.

    With --realtime: one road clip (1920x1080, 25 fps) of validation photos, cars one after another,
    two side by side and close-ups, decoded alone, through the naive loop (every model on every
    frame) and through `anpr process` as shipped; each as a real-time factor (clip seconds per wall
    second, models loaded inside the clock), with each car's read and speed error.
    """
    import json

    from anpr.lab import video_bench

    root = _require_datasets()
    if realtime:
        _realtime(cars, seed, as_json)
        return
    rows = video_bench.bench_photos(photos)
    for row in rows:
        typer.echo(json.dumps(row))
    errors = [abs(r["speed_error_pct"]) for r in rows if r["speed_error_pct"] is not None]
    reads = sum(r["read_ok"] for r in rows)
    offered = sum(r["in_candidates"] for r in rows)
    typer.echo(
        f"photo clips: {len(rows)} vehicles, speed measured for {len(errors)}, mean |error| "
        f"{sum(errors) / max(1, len(errors)):.2f} %, max {max(errors, default=0):.2f} %; "
        f"plates read exactly {reads}/{len(rows)}, the right plate among the alternatives "
        f"{offered}/{len(rows)}"
    )
    if footage:
        for row in video_bench.bench_footage(root):
            typer.echo(json.dumps(row))


def _realtime(cars: int, seed: int, as_json: bool) -> None:
    import json

    from rich import box
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from anpr.lab import video_bench

    tasks: dict[str, TaskID] = {}
    with Progress(console=Console(stderr=True), transient=True) as progress:

        def step(stage: str, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.advance(tasks[stage])

        clip, runs = video_bench.bench_realtime(cars, seed, step)
    scored = [run for run in runs if run.score]
    if as_json:
        typer.echo(json.dumps({"clip": clip.describe(), "seed": seed, "cpu_cores": os.cpu_count()}))
        for run in runs:
            typer.echo(json.dumps(run.to_json()))
        for run in scored:
            assert run.score is not None
            for vehicle in run.score.vehicles:
                typer.echo(json.dumps({"pipeline": run.name, **vehicle.to_json()}))
        if any(run.failed for run in runs):
            raise typer.Exit(1)
        return
    console = Console()
    typer.echo(f"clip: {clip.describe()}, seed {seed}; {os.cpu_count()} CPU cores")
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title="Real time (clip seconds per wall second)",
    )
    columns = ("frames/s", "wall s", "real time", "reads", "speed err %", "missed", "extra")
    table.add_column("")
    for column in columns:
        table.add_column(column, justify="right")
    for run in runs:
        s = run.score
        scored_cells = ("failed", "", "", "") if run.failed else ("", "", "", "")
        if s:
            errors = f"{sum(s.errors) / len(s.errors):.1f} / {max(s.errors):.1f}" if s.errors else "-"
            scored_cells = (f"{s.exact_reads}/{len(s.vehicles)}", errors, str(len(s.missed)), str(s.extra))
        figures = (f"{run.frames / run.wall_s:.1f}", f"{run.wall_s:.1f}", f"{run.realtime_factor:.2f}x")
        table.add_row(run.name, *figures, *scored_cells)
    console.print(table)
    cars_table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title="Per vehicle: read (ok or x), speed error",
    )
    for column in ("plate", "lane", "km/h", "enters", "close", *(r.name for r in scored)):
        cars_table.add_column(column, justify="left" if column in ("plate", "close") else "right")
    for index, car in enumerate(clip.cars):
        cells = [_vehicle_cell(run.score.vehicles[index]) for run in scored if run.score]
        close = "yes" if car.close_up else ""
        cars_table.add_row(car.plate, str(car.lane), f"{car.kmh:g}", f"{car.entry_s:.2f} s", close, *cells)
    console.print(cars_table)
    for run in runs:
        typer.echo(run.summary())
    if any(run.failed for run in runs):
        raise typer.Exit(1)


def _vehicle_cell(row) -> str:
    if not row.events:
        return "missed"
    error = f"{row.speed_error_pct:+.1f}%" if row.speed_error_pct is not None else "-"
    return f"{row.read or '-'} {'ok' if row.read_ok else 'x'} {error}"


@app.command()
def synthetic(
    reader: ReaderOption = "auto",
    per_style: Annotated[int, typer.Option(min=1, help="Fresh synthetic plates per plate style.")] = 100,
) -> None:
    """Exact reads per plate style on fresh synthetic plates (layouts the real sets lack).

    The plates come from the generator the reader was trained on, drawn from a seed training never
    uses: a check for weak layouts (KPK, Balochistan, ICT, motorcycles ...), not a real-world figure.
    """
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from anpr.lab import bench
    from anpr.lab.synth import STYLES
    from anpr.ocr import get_reader

    chosen = get_reader(reader)
    with Progress(transient=True) as progress:
        task = progress.add_task("reading synthetic plates", total=len(STYLES))
        rows = bench.bench_synthetic(chosen, per_style, progress=lambda: progress.advance(task))
    table = Table(
        title=f"Synthetic plates, reader={chosen.name}, {per_style} per style, seed {bench.SYNTHETIC_SEED}"
    )
    for column in ("style", "n", "text", "text + year", "region not given: text + year"):
        table.add_column(column, justify="left" if column == "style" else "right")
    for style, row in rows.items():
        n = row["n"]
        table.add_row(
            style,
            str(n),
            f"{row['text'] / n:.1%}",
            f"{row['with_year'] / n:.1%}",
            f"{row['auto_with_year'] / n:.1%}",
        )
    Console().print(table)


@app.command()
def tilt(
    reader: ReaderOption = "auto",
    split: SplitOption = "val",
    angles: Annotated[
        str, typer.Option(help="Comma-separated angles in degrees, counter-clockwise positive.")
    ] = "0,4,-4,8,-8,12",
    slant: Annotated[
        bool,
        typer.Option(
            "--slant",
            help="Shear the plates instead of turning them: their lines slant by the angle, their "
            "vertical strokes stay vertical (a camera beside and above the road).",
        ),
    ] = False,
    end_to_end: Annotated[
        bool,
        typer.Option(help="Also run each changed photo through the whole pipeline (slower): found and read."),
    ] = False,
) -> None:
    """Exact reads of the held-back plates turned in the picture, per angle (camera aimed off level).

    Each openalpr-dev photo is turned about its plate's centre and read in the box that holds the
    turned plate (with the pipeline's margin); each pk-plates-dev crop is turned whole, its edges
    repeated outward first. With --slant the plates are sheared instead, as a camera beside and
    above the road shows them (try --slant --angles 0,10,-10,20,-20).
    """
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from anpr.lab import bench
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    chosen_angles = _numbers(angles, float, "angles", "numbers")
    _require_datasets()
    chosen = get_reader(reader)
    recognizer = PlateRecognizer(reader=chosen) if end_to_end else None
    with Progress(transient=True) as progress:
        task = progress.add_task("reading turned plates", total=len(chosen_angles))
        rows = bench.bench_tilt(
            chosen, chosen_angles, split, lambda: progress.advance(task), slant, recognizer
        )
    table = Table(title=f"{'Slanted' if slant else 'Turned'} plates, reader={chosen.name}, split={split}")
    columns = (
        "degrees",
        "openalpr-dev",
        "openalpr-dev, labels corrected",
        "end to end (corrected)",
        "pk-plates-dev, text + year",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row['degrees']:g}",
            f"{row['openalpr']}/{row['openalpr_n']}",
            f"{row['openalpr_corrected']}/{row['openalpr_n']}",
            f"{row['openalpr_end_to_end']}/{row['openalpr_n']}" if end_to_end else "-",
            f"{row['pk_with_year']}/{row['pk_n']}",
        )
    Console().print(table)


@app.command()
def speed(
    reader: ReaderOption = "auto",
    photos: Annotated[int, typer.Option(help="Validation photos to time on.")] = 20,
) -> None:
    """Seconds per plate read and per photo end to end on this machine (median of 3 runs)."""

    from anpr.lab import bench
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    _require_datasets()
    figures = bench.bench_speed(PlateRecognizer(reader=get_reader(reader)), photos)
    typer.echo(f"CPU cores: {os.cpu_count()}")
    typer.echo(f"plate read, one at a time: {figures['plate_read_single_s'] * 1000:.1f} ms")
    typer.echo(f"plate read, batched:       {figures['plate_read_batched_s'] * 1000:.1f} ms per plate")
    typer.echo(
        f"photo end to end:          {figures['photo_end_to_end_s'] * 1000:.0f} ms "
        "(vehicles + plates in frame and in each vehicle + reads)"
    )


@app.command()
def resolution(
    reader: ReaderOption = "auto",
    split: SplitOption = "val",
    widths: Annotated[
        str, typer.Option(help="Comma-separated plate widths in pixels to shrink the held-back plates to.")
    ] = "30,40,50,60,80,100",
    end_to_end: Annotated[
        bool,
        typer.Option(help="Also run each shrunk photo through the whole pipeline (slower): found and read."),
    ] = True,
) -> None:
    """Exact reads of the held-back plates shrunk to a given width (a camera too far or too wide).

    The same plates at every width: the held-back ones at least as wide as the widest WIDTH as
    photographed (openalpr-dev: the labelled text box; pk-plates-dev: the whole crop). Each photo
    is shrunk (area averaging, as a coarser sensor sees it) until its text box is WIDTH pixels wide
    and read in that box with the pipeline's margin; each crop is shrunk to WIDTH. The first row
    reads them as photographed. It answers 'how many pixels must a plate span on this camera'.
    """
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from anpr.lab import bench
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    chosen_widths = _numbers(widths, int, "widths", "whole numbers")
    if not chosen_widths or min(chosen_widths) < 8:
        raise typer.BadParameter("every width must be at least 8 pixels", param_hint="--widths")
    _require_datasets()
    chosen = get_reader(reader)
    recognizer = PlateRecognizer(reader=chosen) if end_to_end else None
    with Progress(transient=True) as progress:
        task = progress.add_task("reading shrunk plates", total=len(chosen_widths) + 1)
        rows = bench.bench_resolution(
            chosen, chosen_widths, split, progress=lambda: progress.advance(task), recognizer=recognizer
        )
    table = Table(title=f"Shrunk plates, reader={chosen.name}, split={split}")
    columns = (
        "plate width (px)",
        "openalpr-dev text box",
        "labels corrected",
        "end to end (corrected)",
        "pk-plates-dev crop",
        "with year",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["width"]) if row["width"] else "as photographed",
            f"{row['openalpr']}/{row['openalpr_n']}",
            f"{row['openalpr_corrected']}/{row['openalpr_n']}",
            f"{row['openalpr_end_to_end']}/{row['openalpr_n']}" if end_to_end else "-",
            f"{row['pk']}/{row['pk_n']}",
            f"{row['pk_with_year']}/{row['pk_n']}",
        )
    Console().print(table)
