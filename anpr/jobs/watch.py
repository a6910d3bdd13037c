"""Live cameras at once (`anpr watch CAMERAS.yaml`): one process per camera under a supervisor.

Each camera runs the footage job (anpr.jobs.footage.run_footage) on its live source, read as a
camera sends it (anpr.feed.Live: thinned evenly when the pipeline lags, never an ever-growing
backlog), with its own site file, recording to the one records database. No annotated video is
written for a live camera: the control room watches the stream itself, and each finding keeps its
evidence stills.

- A source that fails or ends (a stream that drops, a camera that hangs up) is opened again after
  a back-off that doubles from 1 s up to a minute; a process that dies is started again the same way.
- SIGTERM or Ctrl-C stops every camera cleanly: each source ends, the open tracks are closed into
  events and recorded, and the output folders lose their INCOMPLETE marks.
- Each camera's health (last frame, frames a second, lag, frames dropped, reconnects, vehicles,
  violations, last error) is written once a second to STATE/CAMERA.json, atomically, for
  `anpr cameras status` and the officers' page.

The cameras file:

    cameras:
      - id: LHR-REGAL-01
        source: rtsp://10.0.0.5/stream1    # or http://..., a folder of frames, or a video file
        site: sites/regal-chowk.yaml         # relative to this file
      - id: TEST-LOOP
        source: sample_videos/canal-road.mp4
        site: sample_videos/canal-road.yaml
        loop: true                           # a file played over and over at its frame rate (tests)
        key_env: TEST_LOOP_KEY               # with --hub: the variable holding its hub key (or key:)

With `--hub URL` the cameras send their events to the hub instead of a database (anpr.jobs.uplink).
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from anpr.errors import AnprError, ConfigError
from anpr.feed import Live, Paced, _Relay
from anpr.jobs.health import Health, now_iso
from anpr.video import Frame, FrameSource

if TYPE_CHECKING:
    from anpr.jobs.uplink import HubTarget

BACKOFF_S = (1.0, 60.0)  # first wait before reopening a source, and the longest
HEALTH_EVERY_S = 1.0
STOP_GRACE_S = 30.0  # how long a camera may take to close its tracks after a stop


class CameraSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    source: str
    site: Path
    loop: bool = False
    fps: float | None = Field(default=None, gt=0)
    # With --hub, the camera's key from `anpr camera add` on the hub: the variable holding it, or it
    key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    key: SecretStr | None = None

    @model_validator(mode="after")
    def _one_key(self) -> CameraSpec:
        if self.key_env and self.key is not None:
            raise ValueError("give key_env or key, not both")
        return self


class CamerasFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: list[CameraSpec] = Field(min_length=1)

    @field_validator("cameras")
    @classmethod
    def _unique(cls, cameras: list[CameraSpec]) -> list[CameraSpec]:
        seen: set[str] = set()
        for camera in cameras:
            if camera.id in seen:
                raise ValueError(f"camera id {camera.id} is listed twice")
            seen.add(camera.id)
        return cameras


def load_cameras(path: Path) -> list[CameraSpec]:
    """The cameras file, each site and file source resolved against its folder; one line naming
    the file and key for anything wrong."""
    if not path.is_file():
        raise ConfigError(f"{path}: cameras file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        raise ConfigError(f"{path}: not valid YAML") from None
    try:
        cameras = CamerasFile.model_validate(raw if isinstance(raw, dict) else {}).cameras
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"{path}: {where}: {error['msg']}") from None
    resolved = []
    for camera in cameras:
        site = camera.site if camera.site.is_absolute() else path.parent / camera.site
        if not site.is_file():
            raise ConfigError(f"{path}: camera {camera.id}: site file {site} not found")
        source = camera.source
        if "://" not in source and not Path(source).is_absolute():
            source = str(path.parent / source)
        resolved.append(camera.model_copy(update={"site": site, "source": source}))
    return resolved


class Looped(FrameSource):
    """A recorded file played over and over, its frame numbers and times running on (for tests and
    demonstrations of a live camera)."""

    def __init__(self, spec: str, fps: float | None = None):
        from anpr.video import open_source

        self.spec, self.fps_given = spec, fps
        first = open_source(spec, fps)
        self.name, self.fps, self.size = f"{first.name} (looped)", first.fps, first.size
        self.frame_count = None

    def __iter__(self) -> Iterator[Frame]:
        from anpr.video import open_source

        index = 0
        while True:
            played = 0
            for frame in open_source(self.spec, self.fps_given):
                yield Frame(index, index / self.fps, frame.image)
                index += 1
                played += 1
            if not played:
                return


class StopFlag:
    """Whether to stop: set by a signal handler (a plain flag: a lock taken in a handler deadlocks
    the code it interrupted, if that code held it) or by the supervisor's shared event."""

    def __init__(self, shared=None):
        self.shared, self.requested = shared, False

    def set(self) -> None:
        self.requested = True

    def is_set(self) -> bool:
        return self.requested or (self.shared is not None and self.shared.is_set())

    def wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not self.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        return self.is_set()


class Stoppable(_Relay):
    """`source`'s frames until `stop` is set: then it ends as a file would, so that the pipeline
    closes its open tracks."""

    def __init__(self, source: FrameSource, stop):
        super().__init__(source)
        self.stop = stop

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.source:
            if self.stop.is_set():
                return
            yield frame


def run_camera(
    spec: CameraSpec,
    *,
    db: str | None,
    out: Path,
    state: Path,
    stop,
    store: bool = True,
    hub: HubTarget | None = None,
    key: str | None = None,
) -> Health:
    """One camera until `stop` is set: its source opened, processed live and reopened after a
    back-off whenever it fails or ends. With `hub` (and the camera's `key`) its events go to the
    hub's outbox (anpr.jobs.uplink) instead of the records. Returns its last health."""
    from anpr.jobs.footage import event_json, run_footage
    from anpr.site import load_site
    from anpr.video import StreamSource, open_source

    health = Health(spec.id, started_at=now_iso())
    recent: deque[float] = deque(maxlen=250)
    last_write = 0.0
    failures = 0
    live: Live | None = None
    segment = out / spec.id
    guard = threading.Lock()  # the uplink's thread writes the health too

    def save() -> None:
        with guard:
            health.write(state)

    uplink = None
    if hub is not None:
        from anpr.jobs.uplink import Uplink

        if not key:
            raise ConfigError(f"camera {spec.id}: no key for the hub (anpr.jobs.uplink.camera_keys)")
        uplink = Uplink(hub, key, health, save)

    def tick() -> None:
        nonlocal last_write
        now = time.monotonic()
        recent.append(now)
        health.frames += 1
        health.last_frame_at = now_iso()
        health.status = "running"
        if now - last_write >= HEALTH_EVERY_S:
            window = [t for t in recent if t >= now - 10]
            health.fps = round(len(window) / min(10.0, max(now - window[0], 1e-3)), 2) if window else 0.0
            if live is not None:
                health.lag_s, health.dropped = round(live.stats.lag_s, 3), live.stats.dropped
            save()
            last_write = now

    def counted(judged, stored) -> None:
        health.vehicles += 1
        health.violations += len(judged.findings)
        if uplink is not None:
            uplink.send(event_json(judged, stored), segment)

    save()
    if uplink is not None:
        uplink.start()
    while not stop.is_set():
        began = time.monotonic()
        try:
            opened = Looped(spec.source, spec.fps) if spec.loop else open_source(spec.source, spec.fps)
            live = Live(opened if isinstance(opened, StreamSource) else Paced(opened))
            site = _live_site(load_site(spec.site))
            health.site_id = site.id
            segment = out / spec.id / site.start_time.strftime("%Y%m%dT%H%M%S")
            tip_off = None
            if hub is not None and key:
                from anpr.jobs.uplink import Tipoff

                tip_off = Tipoff(hub, key, site, segment / "evidence")
            run_footage(
                spec.source,
                spec.site,
                db=db,
                out=segment,
                store=store and hub is None,
                source=Stoppable(live, stop),
                site=site,
                annotated=False,
                on_frame=tick,
                on_event=counted,
                tip_off=tip_off,
            )
            health.error = None
        except AnprError as exc:
            health.error = str(exc)
        except Exception as exc:  # a camera's failure must not stop the others: said, then retried
            health.error = f"unexpected {type(exc).__name__}: {exc}"
        if stop.is_set():
            break
        failures = failures + 1 if time.monotonic() - began < 60 else 1
        health.reconnects += 1
        health.status = "reconnecting"
        save()
        stop.wait(min(BACKOFF_S[1], BACKOFF_S[0] * 2 ** (failures - 1)))
    if uplink is not None:
        uplink.close()  # every event is queued by now: send what the hub takes in a few seconds
    health.status = "stopped"
    save()
    return health


def _live_site(site):
    """The site with frame 0 at the wall-clock moment the source is opened: a live camera's frames
    are timed from there."""
    from dataclasses import replace

    config = site.config
    offset = config.camera.start_time.utcoffset()
    now = datetime.now(UTC)
    started = now.astimezone(config.camera.start_time.tzinfo) if offset is not None else now
    camera = config.camera.model_copy(update={"start_time": started})
    return replace(site, config=config.model_copy(update={"camera": camera}))


def _camera_process(
    spec: CameraSpec,
    db: str | None,
    out: Path,
    state: Path,
    store: bool,
    shared,
    hub: HubTarget | None,
    key: str | None,
) -> None:
    """A camera's process: SIGTERM (from a service manager that signals every process) or Ctrl-C
    stops it as the supervisor's stop does."""
    stop = StopFlag(shared)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_camera(spec, db=db, out=out, state=state, stop=stop, store=store, hub=hub, key=key)


def watch(
    cameras: list[CameraSpec],
    *,
    db: str | None,
    out: Path,
    state: Path,
    store: bool = True,
    stop=None,
    on_change=None,
    hub: HubTarget | None = None,
    keys: dict[str, str] | None = None,
) -> None:
    """Run every camera in its own process until SIGTERM/Ctrl-C (or `stop`, for tests); a process
    that dies is started again after a back-off. Returns once every camera has stopped. With `hub`,
    each camera sends its events there with its key in `keys` (anpr.jobs.uplink.camera_keys)."""
    context = multiprocessing.get_context("spawn")
    shared = context.Event()  # set here, outside any signal handler, and read by every camera
    stop = stop or StopFlag()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    processes: dict[str, multiprocessing.process.BaseProcess] = {}
    restarts: dict[str, tuple[int, float]] = {}  # camera -> (deaths in a row, when it may start)

    def start(spec: CameraSpec) -> None:
        process = context.Process(
            target=_camera_process,
            args=(spec, db, out, state, store, shared, hub, (keys or {}).get(spec.id)),
            name=f"anpr-watch-{spec.id}",
        )
        process.start()
        processes[spec.id] = process
        if on_change:
            on_change(spec.id, "started", process.pid)

    purger = None
    if store and hub is None:  # the records are here: purge what the retention lets go, hourly
        from challan.retention import start_purging

        purger = start_purging(db)
    try:
        for spec in cameras:
            start(spec)
        while not stop.is_set():
            for spec in cameras:
                process = processes[spec.id]
                if process.is_alive():
                    continue
                deaths, due = restarts.get(spec.id, (0, 0.0))
                if due == 0.0:
                    deaths += 1
                    due = time.monotonic() + min(BACKOFF_S[1], BACKOFF_S[0] * 2 ** (deaths - 1))
                    restarts[spec.id] = (deaths, due)
                    if on_change:
                        on_change(spec.id, f"exited ({process.exitcode}); restarting", process.pid)
                elif time.monotonic() >= due:
                    restarts[spec.id] = (deaths, 0.0)
                    start(spec)
            stop.wait(0.5)
    finally:
        shared.set()
        if purger is not None:
            purger.stop()
        deadline = time.monotonic() + STOP_GRACE_S
        for process in processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(5)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
