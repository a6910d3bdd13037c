"""`anpr process`: footage in; vehicle events, suspected violations (pending review), an annotated
video and evidence images out. Wires anpr.process (vision) to challan.rules and challan.crud."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption, RegionOverride


def process(
    video: Annotated[
        str,
        typer.Argument(help="Video file, folder of frames, or rtsp:// / http:// stream.", show_default=False),
    ],
    site: Annotated[
        Path,
        typer.Option(
            "--site",
            help="Site file (YAML): calibration, limits, stop line, signal phases.",
            show_default=False,
        ),
    ],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per vehicle on stdout.")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for annotated.mp4 and evidence/ [default: out/<video name>]."),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option(help="Frame rate of a folder of frames (else the site's camera.fps, else 10)."),
    ] = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Record events and violations.")] = True,
    reader: Annotated[str, typer.Option(help="Plate reader: auto, crnn, rapidocr, easyocr.")] = "auto",
    region: RegionOverride = None,
    realtime: Annotated[
        bool,
        typer.Option(
            "--realtime",
            help="Play a file as a live camera sends it (paced at its frame rate): when the pipeline falls"
            " behind, frames are dropped evenly and the lag reported. Streams are always read so.",
        ),
    ] = False,
    video_out: Annotated[
        bool,
        typer.Option(
            "--video/--no-video",
            help="Write annotated.mp4 (H.264, every frame with its number and time). --no-video keeps"
            " the events and evidence only, and saves the drawing and encoding (about a fifth of the work).",
        ),
    ] = True,
) -> None:
    """Detect, track and read every vehicle; measure speed; judge stop-line crossings against the
    signal; record suspected violations for officer review. The records database is checked before
    the first frame; a run that stops part-way leaves an INCOMPLETE file in the output folder.
    Each vehicle is one line on stdout (one JSON object with --json); the progress bar and notices
    go to stderr, so `> vehicles.txt` keeps only the vehicles.

    Example: `anpr process sample_videos/regal-chowk.mp4 --site sample_videos/regal-chowk.yaml --json`
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from anpr.jobs.footage import event_json, run_footage

    console = Console(stderr=True)
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
    ]
    # The vehicles go to stdout, so that `> vehicles.txt` keeps only them (rich would route stdout
    # into the bar's console on stderr). Only where stdout is the terminal showing the bar do they
    # go through that console, to print above the bar.
    above_bar = sys.stdout.isatty() and console.is_terminal
    with Progress(*columns, console=console, transient=as_json, redirect_stdout=False) as progress:
        task: TaskID | None = None

        def started(name: str, frame_count: int | None) -> None:
            nonlocal task
            task = progress.add_task(name, total=frame_count)

        def vehicle(judged, stored) -> None:
            line = json.dumps(event_json(judged, stored), ensure_ascii=False) if as_json else _summary(judged)
            if above_bar:
                console.print(line, soft_wrap=True, markup=False, highlight=False)
            else:
                typer.echo(line)

        def frame() -> None:
            assert task is not None  # run_footage calls on_start before the first frame
            progress.advance(task)

        summary = run_footage(
            video,
            site,
            db=db,
            out=out,
            fps=fps,
            store=store,
            reader=reader,
            region=region,
            realtime=realtime,
            annotated=video_out,
            on_start=started,
            on_frame=frame,
            on_event=vehicle,
        )
    if summary.dropped:
        console.print(
            f"fell behind the camera: {summary.dropped} frames dropped evenly, lag at most"
            f" {summary.max_lag_s:.1f} s",
            soft_wrap=True,
            markup=False,
        )
    if not as_json:
        console.print(
            f"{summary.vehicles} vehicles, {summary.violations} suspected violations; "
            f"{'video and evidence' if video_out else 'evidence'} in {summary.out}",
            soft_wrap=True,
            markup=False,
        )


def _summary(judged) -> str:
    event = judged.event
    plate = event.plate.text if event.plate and event.plate.text else "(no plate read)"
    speed = f"{event.speed_kmh:.0f} km/h" if event.speed_kmh is not None else "speed n/a"
    codes = ", ".join(f.code for f in judged.findings) or "no violation"
    return f"#{event.track_id} {event.vehicle_type} {plate} {speed} {event.first_seen:%H:%M:%S}: {codes}"
