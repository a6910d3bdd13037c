"""`anpr process`: footage in; vehicle events, suspected violations (pending review), an annotated
video and evidence images out. Wires anpr.process (vision) to challan.rules and challan.crud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption


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
    region: Annotated[str, typer.Option(help="Plate grammar to rank reads by (auto, pk, ...).")] = "auto",
) -> None:
    """Detect, track and read every vehicle; measure speed; judge stop-line crossings against the
    signal; record suspected violations for officer review.

    Example: anpr process sample_videos/regal-chowk.mp4 --site sample_videos/regal-chowk.yaml --json
    """
    from anpr.site import load_site
    from anpr.video import VideoSink, open_source

    loaded = load_site(site)  # bad input fails here, before the models load
    source = open_source(video, fps or loaded.config.camera.fps)

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from anpr.detect import VehicleDetector
    from anpr.process import VideoProcessor, default_recognizer
    from challan.rules import evaluate_all

    out = out or Path("out") / (Path(video).stem or "stream")
    rules = _site_rules(loaded)
    detector = VehicleDetector(conf=0.1)
    processor = VideoProcessor(
        loaded,
        recognizer=default_recognizer(reader, detector),
        detector=detector,
        judge=lambda event: evaluate_all(event, rules),
        evidence_dir=out / "evidence",
        region=region,
    )
    sink = VideoSink(out / "annotated.mp4", source.fps)
    recorder = _Recorder(db) if store else None
    console = Console(stderr=True)
    counts = {"vehicles": 0, "violations": 0}
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
    ]
    try:
        with Progress(*columns, console=console, transient=as_json) as progress:
            task = progress.add_task(source.name, total=source.frame_count)
            for frame in processor.run(source):
                sink.write(frame.image)
                progress.advance(task)
                for judged in frame.events:
                    stored = recorder.record(judged) if recorder else [None] * len(judged.findings)
                    counts["vehicles"] += 1
                    counts["violations"] += len(judged.findings)
                    if as_json:
                        typer.echo(json.dumps(_event_json(judged, stored), ensure_ascii=False))
                    else:
                        console.print(_summary(judged))
    finally:
        sink.close()
    if not as_json:
        console.print(
            f"{counts['vehicles']} vehicles, {counts['violations']} suspected violations; "
            f"video and evidence in {out}"
        )


def _site_rules(site):
    """The plain numbers and switches challan's rules judge by (challan/ never reads site files)."""
    from challan.rules import SiteRules

    config = site.config
    return SiteRules(
        site_id=config.site.id,
        limit_kmh=config.speed.limit_kmh,
        tolerance_kmh=config.speed.tolerance_kmh,
        red_grace_s=config.signal.red_grace_s if config.signal else 0.0,
        enabled=frozenset(config.enabled_rules()),
    )


def _event_json(judged, stored) -> dict:
    record = judged.event.to_json()
    record["violations"] = [
        {"code": f.code, "occurred_at": f.occurred_at.isoformat(), "id": violation_id, **f.details}
        for f, violation_id in zip(judged.findings, stored, strict=True)
    ]
    return record


def _summary(judged) -> str:
    event = judged.event
    plate = event.plate.text if event.plate and event.plate.text else "(no plate read)"
    speed = f"{event.speed_kmh:.0f} km/h" if event.speed_kmh is not None else "speed n/a"
    codes = ", ".join(f.code for f in judged.findings) or "no violation"
    return f"#{event.track_id} {event.vehicle_type} {plate} {speed} {event.first_seen:%H:%M:%S}: {codes}"


class _Recorder:
    """Stores each event as it closes, in its own transaction: a crash loses at most one vehicle, and
    a re-run stores nothing twice (record_event is idempotent)."""

    def __init__(self, url: str | None):
        self.url = url

    def record(self, judged) -> list[int | None]:
        from challan import crud, db

        with db.session_scope(self.url) as session:
            violations = crud.record_event(session, event=judged.event, findings=list(judged.findings))
            return [v.id for v in violations]
