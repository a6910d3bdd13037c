"""One footage job as `anpr process` and the batch workers (anpr.jobs.workers) both run it: the vision
pipeline (anpr.process) wired to the rules and the records (challan), and to the hub's alerts
(anpr.jobs.lookout, as each read settles). Each closed vehicle is stored in its own transaction as
it closes, with its sighting, so a job killed half-way loses at most the vehicles still in view, and
running it again stores nothing twice (challan.crud.record_event and
challan.sightings.record_sighting are idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from anpr.errors import ConfigError
from anpr.process import JudgedEvent
from anpr.site import Site
from anpr.video import FrameSource
from challan.rules import SectionRules, SiteRules, enabled_codes, evaluate_all


@dataclass(frozen=True)
class JobSummary:
    video: str
    frames: int
    vehicles: int
    violations: int
    out: str
    dropped: int = 0  # frames a live source skipped while the pipeline caught up (anpr.feed.Live)
    max_lag_s: float = 0.0  # how far behind the camera the pipeline fell at most

    def to_json(self) -> dict:
        return asdict(self)


def run_footage(
    video: str,
    site_path: Path,
    *,
    db: str | None = None,
    out: Path | None = None,
    fps: float | None = None,
    store: bool = True,
    reader: str = "auto",
    region: str | None = None,  # None: the site file's plate_region
    realtime: bool = False,  # play a file as a camera sends it: paced, thinned if the pipeline lags
    source: FrameSource | None = None,  # already opened (anpr watch): `video` then only names it
    site: Site | None = None,  # already loaded (anpr watch times a live camera from its start)
    annotated: bool = True,  # write annotated.mp4 (a live camera's control room has the stream)
    on_start: Callable[[str, int | None], None] | None = None,
    on_frame: Callable[[], None] | None = None,
    on_event: Callable[[JudgedEvent, list[int | None]], None] | None = None,
    tip_off=None,  # without the records (anpr watch --hub): reads sent as they settle (uplink.Tipoff)
) -> JobSummary:
    """Detect, track, read, judge and record one video (file, folder of frames or stream). Bad input
    (site file, video) raises AnprError before any model loads, and a records database that cannot
    be used (with `store`) before the video is opened. A stream (and a file with `realtime`) is read
    live: frames are dropped evenly when the pipeline falls behind, never an ever-growing backlog; a
    recorded file is decoded ahead in its own thread. `on_start(name, frame_count)`, `on_frame()` and
    `on_event(judged, violation ids)` let a caller show progress.

    `out` holds an INCOMPLETE file from the first frame until the run ends well: a run that fails
    part-way leaves a partial video and evidence there, marked so (the vehicles it recorded are in
    the records, and a re-run stores none of them twice)."""
    from anpr.feed import Live, Paced, Prefetched
    from anpr.site import load_site
    from anpr.video import StreamSource, VideoSink, open_source

    loaded = site or load_site(site_path)
    rules = site_rules(loaded)
    webhook = None
    if store:
        from challan.db import check_ready

        webhook = alert_webhook()  # a malformed ANPR_ALERT_WEBHOOK is one line before any work
        check_ready(db)  # reachable and migrated, or one line, before a frame is decoded
    live: Live | None = None
    if source is None:
        opened = open_source(video, fps or loaded.config.camera.fps)
        is_stream = isinstance(opened, StreamSource)
        live = Live(opened if is_stream else Paced(opened)) if realtime or is_stream else None
        source = live or Prefetched(opened)

    from anpr.process import VideoProcessor, default_recognizer, video_detector
    from challan.section import SectionJudge, remember_section, sure

    if store:  # the section it ends, for its entry's footage if that is processed later
        from challan.crud import PIPELINE
        from challan.db import session_scope

        with session_scope(db) as session:
            remember_section(session, rules=rules, actor=PIPELINE)

    out = out or Path("out") / (Path(video).stem or "stream")
    detector = video_detector()
    processor = VideoProcessor(
        loaded,
        recognizer=default_recognizer(reader, detector),
        detector=detector,
        # with the records at hand, a section's exit judges its average speed too (challan.section)
        judge=SectionJudge(rules, db) if store else lambda event: evaluate_all(event, rules),
        evidence_dir=out / "evidence",
        region=region,
        draw=annotated,
        keep_evidence=(lambda event: sure(event.plate))
        if loaded.config.section or loaded.config.section_entry
        else None,
    )
    marker = mark_incomplete(out, video)
    sink = VideoSink(out / "annotated.mp4", source.fps) if annotated else None
    lookout = None
    if store:
        from anpr.jobs.lookout import Lookout

        lookout = Lookout(db, loaded, out / "evidence", webhook)
        lookout.attach(processor)
        lookout.start()
    elif tip_off is not None:  # the hub checks the read for alerts as it settles
        lookout = tip_off
        lookout.attach(processor)
    recorder = Recorder(db, lookout) if store else None
    frames = vehicles = violations = 0
    if on_start:
        on_start(source.name, source.frame_count)
    try:
        for frame in processor.run(source):
            if sink is not None:
                sink.write(frame.image, frame.time_s)
            frames += 1
            if on_frame:
                on_frame()
            for judged in frame.events:
                stored: list[int | None] = (
                    recorder.record(judged) if recorder else [None] * len(judged.findings)
                )
                vehicles += 1
                violations += len(judged.findings)
                if on_event:
                    on_event(judged, stored)
            if lookout is not None:
                lookout.frame_done()
    finally:
        if sink is not None:
            sink.close()
        if lookout is not None:
            lookout.close()
    marker.unlink()
    stats = live.stats if live else None
    return JobSummary(
        str(video),
        frames,
        vehicles,
        violations,
        str(out),
        dropped=stats.dropped if stats else 0,
        max_lag_s=round(stats.max_lag_s, 3) if stats else 0.0,
    )


INCOMPLETE = "INCOMPLETE"


def mark_incomplete(out: Path, video: str) -> Path:
    """Write out/INCOMPLETE (making the folder), for the caller to remove once the run ends well."""
    from datetime import UTC, datetime

    out.mkdir(parents=True, exist_ok=True)
    marker = out / INCOMPLETE
    started = datetime.now(UTC).isoformat(timespec="seconds")
    marker.write_text(
        f"anpr process {video} started here at {started} and has not finished (or failed): annotated.mp4"
        " and evidence/ may be partial. Vehicles it recorded before it stopped are in the records;"
        " running it again stores none of them twice, and removes this file when it ends well.\n"
    )
    return marker


def site_rules(site: Site) -> SiteRules:
    """The plain numbers and switches challan's rules judge by (challan/ never reads site files). A
    rule the site file names that the registry lacks is a ConfigError naming the file."""
    config = site.config
    try:
        enabled = enabled_codes(config.rules, config.available_data())
    except ConfigError as exc:
        raise ConfigError(f"{site.path}: {exc}") from None
    section = None
    if config.section is not None:
        given = config.section
        # the site's speed tolerance where the section gives none of its own
        tolerance = config.speed.tolerance_kmh if given.tolerance_kmh is None else given.tolerance_kmh
        section = SectionRules(given.entry_site, given.distance_m, given.limit_kmh, tolerance)
    return SiteRules(
        site_id=config.site.id,
        limit_kmh=config.speed.limit_kmh,
        tolerance_kmh=config.speed.tolerance_kmh,
        red_grace_s=config.signal.red_grace_s if config.signal else 0.0,
        enabled=enabled,
        section=section,
        plate_region=config.site.plate_region,
    )


def event_json(judged: JudgedEvent, stored: list[int | None]) -> dict:
    """One vehicle as `anpr process --json` prints it: the event and its suspected violations."""
    record = judged.event.to_json()
    record["violations"] = [
        {"code": f.code, "occurred_at": f.occurred_at.isoformat(), "id": violation_id, **f.details}
        for f, violation_id in zip(judged.findings, stored, strict=True)
    ]
    return record


def alert_webhook():
    """The webhook alerts are POSTed to (ANPR_ALERT_WEBHOOK), or None."""
    from anpr.settings import environment

    url = environment().alert_webhook
    if not url:
        return None
    from challan.webhook import Webhook

    return Webhook(url)


class Recorder:
    """Stores each event as it closes, in its own transaction, with its sighting and the alerts it
    raises at its close (anpr.jobs.lookout): a crash loses at most one vehicle, and a re-run stores
    nothing twice (record_event, record_sighting and the alerts are idempotent)."""

    def __init__(self, url: str | None, lookout=None):
        self.url, self.lookout = url, lookout

    def record(self, judged: JudgedEvent) -> list[int | None]:
        from challan import crud, db
        from challan.section import late_exits
        from challan.sightings import record_sighting

        raised: list[dict] = []
        images: tuple = ()
        with db.session_scope(self.url) as session:
            violations = crud.record_event(session, event=judged.event, findings=list(judged.findings))
            if self.lookout is not None:
                raised, images = self.lookout.closed(session, judged.event)
            record_sighting(session, event=judged.event, evidence=images)
            late_exits(session, entry=judged.event)  # its exit, batch-processed before it
            ids = [v.id for v in violations]
        if self.lookout is not None:
            self.lookout.deliver(raised)  # once committed
        return ids
