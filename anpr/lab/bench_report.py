"""`anpr bench accuracy`'s report: exact plate reads per region and province, detection recall,
confidence calibration, the reads routed to review, confusions and speed, printed as tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from anpr.lab.bench import (
    READ_IOU,
    RECALL_IOU,
    OpenalprTallies,
    PkTallies,
    bench_openalpr,
    bench_pk,
    calibration,
    routing,
    write_reads,
)
from anpr.lab.datasets import Fold, LabelledPhoto, Part, openalpr_photos, part_of, pk_crops
from anpr.pipeline import PlateRecognizer
from anpr.types import UNCERTAIN_READ


def plates_to_read(root: Path, split: Part) -> int:
    """How many labelled plates the report reads: openalpr-dev photos and legible pk-plates-dev crops."""
    photos = len(part_of(openalpr_photos(root), split))
    return photos + sum(1 for c in part_of(pk_crops(root), split) if c.legible)


@dataclass(frozen=True)
class AccuracyRun:
    """Every labelled plate of one split read: what `print_accuracy` reports."""

    reader: str
    split: Part
    photos: list[LabelledPhoto]
    openalpr: OpenalprTallies
    pk: PkTallies


def measure_accuracy(
    recognizer: PlateRecognizer, *, split: Part, root: Path, progress: Callable[[], None] = lambda: None
) -> AccuracyRun:
    """Read every labelled plate of `split` (a half, "all" or a Fold) under `root` (progress() after
    each)."""
    photos = part_of(openalpr_photos(root), split)
    oa = bench_openalpr(recognizer, split, progress, root)
    pk = bench_pk(recognizer, split, progress, root)
    return AccuracyRun(recognizer.reader.name, split, photos, oa, pk)


def print_accuracy(run: AccuracyRun, console: Console, reads: Path | None = None) -> None:
    """The report's tables and notes on `console`; with `reads`, every read also written to that CSV."""
    split, photos, oa, pk = run.split, run.photos, run.openalpr, run.pk
    crops, pipeline = oa.crops, oa.pipeline
    if isinstance(split, Fold):  # said first and in the title: a fold figure is never a validation one
        console.print(
            f"[bold]Scored on {split}, NOT the validation half:[/] a figure for decisions on folds"
            " (docs/notes/validation-protocol.md); never quote it as a validation figure."
        )
    where = f"{split} (not the validation half)" if isinstance(split, Fold) else f"split={split}"
    table = Table(title=f"Exact plate reads, reader={run.reader}, {where}")
    columns = (
        "set",
        "group",
        "n",
        "read on labelled box",
        "end to end",
        "region not given: box / end to end",
        "detection recall (IoU >= 0.5)",
    )
    for column in columns:
        table.add_column(column, justify="right" if column != "group" else "left")
    present = {p.region for p in photos}
    regions = [r for r in ("us", "eu", "br") if r in present] + sorted(present - {"us", "eu", "br"})
    for group in ("all", *regions) if photos else ():
        n = crops.total[group]
        table.add_row(
            "openalpr-dev",
            group,
            str(n),
            f"{crops.accuracy(group):.1%} (labels corrected {crops.accuracy(group, True):.1%})",
            f"{pipeline.accuracy(group):.1%} ({pipeline.accuracy(group, True):.1%})",
            f"{oa.crops_auto.accuracy(group):.1%} / {oa.pipeline_auto.accuracy(group):.1%}",
            f"{oa.found[group] / n:.1%}" if n else "-",
        )
    for group in sorted(pk.text.total, key=lambda g: (g != "all", g)):
        pasted = pk.pasted.total[group]
        table.add_row(
            "pk-plates-dev",
            group,
            str(pk.text.total[group]),
            f"{pk.text.accuracy(group):.1%} (with year {pk.with_year.accuracy(group):.1%})",
            f"pasted: {pk.pasted.accuracy(group):.1%} (with year {pk.pasted_with_year.accuracy(group):.1%})"
            if pasted
            else "-",
            f"with year {pk.auto_with_year.accuracy(group):.1%} / -",
            "-",
        )
    console.print(table)
    skipped = oa.skipped + pk.skipped
    if skipped:
        shown = "; ".join(skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        files = "file" if len(skipped) == 1 else "files"
        console.print(f"[bold]Skipped {len(skipped)} unreadable {files}, not counted:[/] {shown}")
    console.print(
        f"End to end: the read of the detected plate that overlaps the labelled text box most, at IoU >= "
        f"{READ_IOU} (a plate box around a small text box can sit below {RECALL_IOU})."
    )
    console.print(
        "pk-plates-dev end to end: each crop pasted over the plate of a US car photo of the same split "
        "(the sets hold no Pakistani car photos) and found and read by the whole pipeline."
    )
    console.print(
        "Region not given: the same crops read with --region auto (the CLI's default), the reader "
        "choosing among every region's layouts; the other columns give it the photo's region."
    )
    wrong = sum(1 for p in photos if p.text != p.printed)
    console.print(
        f"openalpr-dev: the first figure scores against the published labels; 'labels corrected' against "
        f"what the photo shows where {wrong} of them are plainly wrong (anpr.lab.datasets.OPENALPR_ERRATA)."
    )
    calib = Table(title="Confidence calibration (crops, both sets)")
    for column in ("confidence", "n", "exact", "labels corrected"):
        calib.add_column(column, justify="right")
    published = calibration(crops.scored + pk.text.scored)
    corrected = calibration(crops.scored_printed + pk.text.scored_printed)
    for (label, n, acc), (_, _, right) in zip(published, corrected, strict=True):
        calib.add_row(label, str(n), f"{acc:.1%}" if n else "-", f"{right:.1%}" if n else "-")
    console.print(calib)
    console.print(
        "A wrong read at high confidence is the one that reaches a citizen: 'labels corrected' scores the"
        " reads against what the photo shows, so a published label the photo contradicts is not counted"
        " as the reader's mistake."
    )
    for name, scored in (  # Pakistani reads with the year: the confidence is that of both
        ("boxes and crops", crops.scored_printed + pk.with_year.scored_printed),
        ("end to end", pipeline.scored_printed + pk.pasted_with_year.scored_printed),
    ):
        reads_n, under, misses, caught = routing(scored, UNCERTAIN_READ)
        console.print(
            f"Marked uncertain (under {UNCERTAIN_READ:.2f}, as the review card and `anpr read` mark them),"
            f" {name}: {under} of {reads_n} reads, holding {caught} of the {misses} misreads"
            " (labels corrected)."
        )
    confusions = (crops.confusions + pk.text.confusions).most_common(10)
    pairs = ", ".join(f"{k} x{v}" for k, v in confusions) or "none"
    console.print(f"Most confused characters (as the plate shows them -> read): {pairs}")
    per_plate = (crops.seconds + pk.text.seconds) / max(1, crops.reads + pk.text.reads)
    per_image = pipeline.seconds / max(1, pipeline.reads)
    end_to_end = (
        f"{per_image * 1000:.0f} ms per photo end to end (detect vehicles + plates + read)"
        if pipeline.reads
        else "no car photos to time end to end"
    )
    console.print(f"Speed (this CPU): {per_plate * 1000:.1f} ms per plate read, {end_to_end}")
    if reads is not None:
        measures = {
            ("openalpr-dev", "labelled box"): crops,
            ("openalpr-dev", "end to end"): pipeline,
            ("openalpr-dev", "labelled box, region not given"): oa.crops_auto,
            ("openalpr-dev", "end to end, region not given"): oa.pipeline_auto,
            ("pk-plates-dev", "crop"): pk.text,
            ("pk-plates-dev", "crop, with year"): pk.with_year,
            ("pk-plates-dev", "crop, with year, region not given"): pk.auto_with_year,
            ("pk-plates-dev", "pasted end to end"): pk.pasted,
            ("pk-plates-dev", "pasted end to end, with year"): pk.pasted_with_year,
        }
        written = write_reads(reads, measures)
        misses = sum(not row["exact"] for row in crops.rows + pk.with_year.rows)
        console.print(f"{written} reads written to {reads} ({misses} misreads on labelled boxes and crops)")
