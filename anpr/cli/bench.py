"""`anpr bench`: accuracy and speed on the dev sets' validation splits (figures for the README)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Benchmarks on ../shared/datasets (validation splits only).", no_args_is_help=True)

ReaderOption = Annotated[str, typer.Option(help="Plate reader: auto, crnn, rapidocr, easyocr.")]
SplitOption = Annotated[str, typer.Option(help="val (held back, the figure to quote), train or all.")]


@app.command()
def accuracy(reader: ReaderOption = "auto", split: SplitOption = "val") -> None:
    """Exact plate reads per region and province, detection recall, confusions, calibration."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from anpr import bench
    from anpr.datasets import openalpr_photos, pk_crops, shared_datasets
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    if shared_datasets() is None:
        raise typer.BadParameter("../shared/datasets not found; set ANPR_DATASETS to its path")
    recognizer = PlateRecognizer(reader=get_reader(reader))
    count = sum(1 for p in openalpr_photos() if split == "all" or p.split == split)
    count += sum(1 for c in pk_crops() if (split == "all" or c.split == split) and c.legible)
    with Progress(transient=True) as progress:
        task = progress.add_task("benchmarking", total=count)
        step = lambda: progress.advance(task)  # noqa: E731
        crops, pipeline, found = bench.bench_openalpr(recognizer, split, step)
        pk, pk_year = bench.bench_pk(recognizer, split, step)
    console = Console()
    table = Table(title=f"Exact plate reads, reader={recognizer.reader.name}, split={split}")
    for column in ("set", "group", "n", "read on labelled box", "end-to-end", "detection recall"):
        table.add_column(column, justify="right" if column != "group" else "left")
    for group in ("all", "us", "eu", "br"):
        n = crops.total[group]
        table.add_row(
            "openalpr-dev",
            group,
            str(n),
            f"{crops.accuracy(group):.1%}",
            f"{pipeline.accuracy(group):.1%}",
            f"{found[group] / n:.1%}" if n else "-",
        )
    for group in sorted(pk.total, key=lambda g: (g != "all", g)):
        table.add_row(
            "pk-plates-dev",
            group,
            str(pk.total[group]),
            f"{pk.accuracy(group):.1%} (with year {pk_year.accuracy(group):.1%})",
            "-",
            "-",
        )
    console.print(table)
    calib = Table(title="Confidence calibration (crops, both sets)")
    for column in ("confidence", "n", "exact"):
        calib.add_column(column, justify="right")
    for label, n, acc in bench.calibration(crops.scored + pk.scored):
        calib.add_row(label, str(n), f"{acc:.1%}" if n else "-")
    console.print(calib)
    confusions = (crops.confusions + pk.confusions).most_common(10)
    console.print(
        "Most confused characters (truth->read): " + (", ".join(f"{k} x{v}" for k, v in confusions) or "none")
    )
    per_plate = (crops.seconds + pk.seconds) / max(1, crops.reads + pk.reads)
    per_image = pipeline.seconds / max(1, pipeline.reads)
    console.print(
        f"Speed (this CPU): {per_plate * 1000:.1f} ms per plate read, "
        f"{per_image * 1000:.0f} ms per photo end to end (detect vehicles + plates + read)"
    )
