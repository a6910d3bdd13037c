"""Video benchmarks on real pixels (never committed; built from ../shared/datasets at run time):

photos  a real car photo from openalpr-dev (validation half) cut out and driven down the drawn road
        at a known speed, through the whole pipeline: speed error and per-vehicle plate accuracy.
footage the real car-park clip (videos/car-detection.mp4): tracks, fragments and speeds, for
        plausibility (its plates are not legible and its calibration is estimated).
realtime a 1080p 25 fps road clip of validation photos (anpr.lab.roadclip) read three ways, each as a
        real-time factor: decoding only, every model on every frame, and `anpr process` as shipped.

    python -m anpr.lab.video_bench photos [N] | footage | realtime [CARS]   (JSON lines on stdout)"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from anpr.lab.scene import Camera, Painter, draw_road
from anpr.process import JudgedEvent, VideoProcessor
from anpr.speed import GroundPath, GroundPlane, bottom_centres

if TYPE_CHECKING:
    from anpr.lab.roadclip import ClosedTrack, RoadClip, Score
    from anpr.video import FrameSource

CAR_WIDTH_M = 1.8  # the photo's car is scaled to this width on the road
STOP_Y = 6.0


@dataclass(frozen=True)
class PhotoClip:
    clip: Path
    site: Path
    plate: str
    kmh: float
    photo: str


def cut_out_car(image: np.ndarray, plate_box, detector) -> np.ndarray | None:
    """The detected car that holds the labelled plate, if it is whole (not cut by the photo's edge)."""
    cars = detector.detect(image)
    px, py = (plate_box[0] + plate_box[2]) / 2, (plate_box[1] + plate_box[3]) / 2
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in cars.xyxy:
        holds = x1 <= px <= x2 and y1 <= py <= y2
        whole = x1 > 2 and y1 > 2 and x2 < w - 3 and y2 < h - 3
        if holds and whole and x2 - x1 > 120:
            return image[int(y1) : int(y2), int(x1) : int(x2)]
    return None


def photo_clip(
    car: np.ndarray,
    out_dir: Path,
    kmh: float,
    plate: str,
    photo: str,
    fps: float = 10.0,
    seconds: float = 4.0,
    camera: Camera | None = None,
) -> PhotoClip:
    """Drive the cut-out car (a flat billboard facing the camera) down lane 1 at `kmh`; its bottom
    edge is on the road, so the speed of the box's bottom-centre is the truth."""
    camera = camera or Camera()
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = out_dir / "photo.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), fps, (camera.width, camera.height))
    v = kmh / 3.6
    for index in range(round(seconds * fps)):
        painter = Painter(camera)
        draw_road(painter, STOP_Y)
        frame = painter.finish()
        y = 40.0 - v * index / fps
        paste_car(frame, car, camera, 1.75, y)
        writer.write(frame)
    writer.release()
    site = out_dir / "photo.yaml"
    write_site(site, camera, "BENCH-PHOTO")
    return PhotoClip(clip, site, plate, kmh, photo)


def write_site(path: Path, camera: Camera, site_id: str) -> None:
    """The site file of a drawn road: calibrated by the camera that drew it (four road points 7 m x
    30 m <-> their pixels) with the stop line at STOP_Y and a 60 km/h limit."""
    image_points = [
        [round(float(a), 1), round(float(b), 1)]
        for a, b in camera.ground_to_image([(0, 0), (7, 0), (7, 30), (0, 30)])
    ]
    stop = [
        [round(float(a), 1), round(float(b), 1)]
        for a, b in camera.ground_to_image([(0, STOP_Y), (7, STOP_Y)])
    ]
    path.write_text(
        f"site: {{id: {site_id}, name: bench}}\ncamera: {{start_time: '2026-11-20T08:00:00+05:00'}}\n"
        f"calibration: {{image: {image_points}, world: [[0, 0], [7, 0], [7, 30], [0, 30]]}}\n"
        f"speed: {{limit_kmh: 60}}\nsignal: {{stop_line: {stop}}}\n"
    )


def sprite_box(
    shape: tuple[int, ...], camera: Camera, x: float, y: float, width_m: float = CAR_WIDTH_M
) -> tuple[int, int, int, int]:
    """Where a car image of this shape stands on the road at (x, y): a flat billboard `width_m`
    wide facing the camera, its bottom edge centred on the ground point. (left, top, width, height)
    in pixels, possibly outside the frame."""
    depth = camera.to_camera(np.array([x, y, 0.0]))[2]
    width = camera.focal_px * width_m / depth
    height = width * shape[0] / shape[1]
    bx, by = camera.ground_to_image([(x, y)])[0]
    return int(round(bx - width / 2)), int(round(by - height)), int(round(width)), int(round(height))


def paste_car(
    frame: np.ndarray, car: np.ndarray, camera: Camera, x: float, y: float, width_m: float = CAR_WIDTH_M
) -> bool:
    """Paste the car at (x, y) on the road (see sprite_box); False when none of it is in view."""
    x0, y0, w, h = sprite_box(car.shape, camera, x, y, width_m)
    if w < 4 or h < 4:
        return False
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if fx1 <= fx0 or fy1 <= fy0:
        return False
    sprite = cv2.resize(car, (w, h), interpolation=cv2.INTER_AREA if w < car.shape[1] else cv2.INTER_LINEAR)
    frame[fy0:fy1, fx0:fx1] = sprite[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    return True


def process(clip: Path, site_path: Path, processor_options: dict | None = None) -> tuple[list, float, int]:
    """(vehicle events, seconds, frames) for a clip through the full pipeline (no records, no files)."""
    from anpr.site import load_site
    from anpr.video import open_source

    processor = VideoProcessor(load_site(site_path), **(processor_options or {}))
    started = time.perf_counter()
    events = [j.event for frame in processor.run(open_source(clip)) for j in frame.events]
    return events, time.perf_counter() - started, processor.stats["frames"]


def bench_photos(count: int = 10, seed: int = 0) -> list[dict]:
    from anpr.detect import VehicleDetector
    from anpr.images import load_image
    from anpr.lab.datasets import openalpr_photos

    detector = VehicleDetector()
    rng = np.random.default_rng(seed)
    photos = [p for p in openalpr_photos() if p.split == "val"]
    rows: list[dict] = []
    for photo in (photos[i] for i in rng.permutation(len(photos))):
        if len(rows) >= count:
            break
        car = cut_out_car(load_image(photo.path), photo.box, detector)
        if car is None:
            continue
        kmh = float(rng.choice([30, 45, 60, 80]))
        with tempfile.TemporaryDirectory() as tmp:
            made = photo_clip(car, Path(tmp), kmh, photo.text, photo.path.name)
            events, seconds, frames = process(made.clip, made.site)
        main = max(events, key=lambda e: (e.last_seen - e.first_seen).total_seconds(), default=None)
        speed = main.speed_kmh if main else None
        read = main.plate.text if main and main.plate else ""
        rows.append(
            {
                "photo": made.photo,
                "truth_kmh": kmh,
                "speed_kmh": round(speed, 2) if speed else None,
                "speed_error_pct": round(100 * (speed - kmh) / kmh, 2) if speed else None,
                "plate": made.plate,
                "read": read,
                "read_ok": read == made.plate,
                # what an officer reviewing the event can pick: the read or one of its alternatives
                "in_candidates": bool(
                    main and main.plate and made.plate in [c.text for c in main.plate.candidates]
                ),
                "events": len(events),
                "fps": round(frames / seconds, 2),
            }
        )
    return rows


def bench_footage(root: Path) -> list[dict]:
    """The car-park clip with an estimated calibration: near top-down, about 82 px per metre."""
    clip = root / "videos" / "car-detection.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "carpark.yaml"
        site.write_text(
            "site: {id: BENCH-CARPARK, name: car park (estimated calibration)}\n"
            "camera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
            "calibration: {image: [[0, 432], [768, 432], [768, 0], [0, 0]], "
            "world: [[0, 0], [9.4, 0], [9.9, 5.4], [-0.5, 5.4]]}\n"
            "speed: {limit_kmh: 20, margin_m: 0}\n"
        )
        events, seconds, frames = process(clip, site)
    return [
        {
            "track_id": e.track_id,
            "type": e.vehicle_type,
            "colour": e.colour,
            "seen_s": round((e.last_seen - e.first_seen).total_seconds(), 1),
            "speed_kmh": round(e.speed_kmh, 1) if e.speed_kmh is not None else None,
            "fps": round(frames / seconds, 2),
        }
        for e in events
    ]


# --- real time: one road clip, four ways -------------------------------------------------------

DECODE, NAIVE, SHIPPED, LIVE = "decode only", "naive loop", "anpr process", "no video"
Tick = Callable[[str, int], None]  # (stage, its total steps), called after each step


@dataclass(frozen=True)
class PipelineRun:
    """One way through the clip: wall seconds from the start (models loaded inside) to the last frame."""

    name: str
    frames: int
    wall_s: float
    clip_s: float
    score: Score | None = None  # decoding reads nothing
    load: float | None = None  # the machine's 1-minute load average at the end: others' work slows ours
    failed: str | None = None  # what stopped a pipeline before the clip's end (frames: those it got to)

    @property
    def realtime_factor(self) -> float:
        """Seconds of footage per second of work: 1 or more keeps up with the camera."""
        return self.clip_s / self.wall_s

    def to_json(self) -> dict:
        return {
            "pipeline": self.name,
            "frames": self.frames,
            "clip_s": round(self.clip_s, 2),
            "wall_s": round(self.wall_s, 2),
            "fps": round(self.frames / self.wall_s, 2),
            "realtime_factor": round(self.realtime_factor, 3),
            "load_average": round(self.load, 2) if self.load is not None else None,
            **({"failed": self.failed} if self.failed else {}),
            **(self.score.to_json() if self.score else {}),
        }

    def summary(self) -> str:
        """One line: how far from real time, and what it got right."""
        line = (
            f"{self.name}: {self.realtime_factor:.2f}x real time ({self.frames} frames in "
            f"{self.wall_s:.1f} s, {self.frames / self.wall_s:.1f} frames/s"
        )
        if self.load is not None:
            line += f", load average {self.load:.1f}"
        if self.failed:
            return f"{self.name}: failed after {self.frames} frames in {self.wall_s:.1f} s: {self.failed}"
        if self.score is None:
            return line + "): the ceiling"
        s = self.score
        errors = (
            f"mean {np.mean(s.errors):.1f} %, max {max(s.errors):.1f} % over {len(s.errors)} cars"
            if s.errors
            else "none measured"
        )
        return (
            f"{line}, models loaded inside); plates exact {s.exact_reads}/{len(s.vehicles)}; speed |error| "
            f"{errors}; missed {len(s.missed)} ({', '.join(c.plate for c in s.missed) or 'none'}); "
            f"{s.extra} extra events"
        )


class PathKeepingProcessor(VideoProcessor):
    """The pipeline unchanged, also keeping each closed track's ground path: the truth is matched by
    where a track was on the road, which an event does not carry. The path is worked out from the
    track's boxes once, as it closes (a few milliseconds inside the timing)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        calibration = self.site.config.calibration
        self.plane = GroundPlane(calibration.image, calibration.world)
        self.closed: list[ClosedTrack] = []

    def _close(self, track) -> JudgedEvent | None:
        from anpr.lab.roadclip import ClosedTrack

        judged = super()._close(track)
        if judged is not None:
            seen = (track.times[0], track.times[-1])
            self.closed.append(ClosedTrack(judged.event, self.road_path(track), seen))
        return judged

    def road_path(self, track) -> GroundPath:
        """The bottom-centres of the boxes not cut by the frame's edge, on the road (a name of its
        own: VideoProcessor's private helpers change)."""
        usable = [i for i, cut in enumerate(track.clipped) if not cut]
        points = bottom_centres(np.asarray([track.boxes[i] for i in usable], float).reshape(-1, 4))
        above = self.plane.horizon_safe(points)
        times = np.asarray(track.times, float)[usable]
        return GroundPath(track.id, times[above], self.plane.to_world(points)[above])


def naive_options() -> dict:
    """Every model on every frame: the default models, and plates read until the track ends."""
    from anpr.process import NAIVE_OPTIONS, ReadPolicy

    never = ReadPolicy(settle_count=10**6, max_attempts=10**6)
    return {"reads": never, **NAIVE_OPTIONS}


def shipped_options() -> dict:
    """`anpr process` as anpr.jobs.footage.run_footage builds it, less records, evidence and judge
    (its source: shipped_source)."""
    from anpr.process import default_recognizer, video_detector

    detector = video_detector()
    return {"recognizer": default_recognizer("auto", detector), "detector": detector}


def live_options() -> dict:
    """A live camera's pipeline (anpr watch): `anpr process` without the overlay; no video written."""
    return {**shipped_options(), "draw": False}


def decode_only(clip: RoadClip, on_frame: Tick | None = None) -> PipelineRun:
    """The ceiling: reading the frames and nothing else."""
    from anpr.video import open_source

    started = time.perf_counter()
    frames = 0
    for _ in open_source(clip.clip):
        frames += 1
        if on_frame:
            on_frame(DECODE, clip.frames)
    return PipelineRun(DECODE, frames, time.perf_counter() - started, clip.seconds, load=os.getloadavg()[0])


def shipped_source(path: Path) -> FrameSource:
    """The file as run_footage reads a recording: decoded ahead in a thread of its own."""
    from anpr.feed import Prefetched
    from anpr.video import open_source

    return Prefetched(open_source(path))


def run_pipeline(
    name: str,
    clip: RoadClip,
    options: Callable[[], dict],
    on_frame: Tick | None = None,
    source: Callable[[Path], FrameSource] | None = None,
) -> PipelineRun:
    """The clip (open_source, or `source`) through VideoProcessor(site, **options()), timed from
    building the models (they load inside the clock) to the last frame written to the annotated
    video, as `anpr process` writes it (none where the options say draw=False, as anpr watch), its
    events scored."""
    from anpr.lab.roadclip import score
    from anpr.site import load_site
    from anpr.video import VideoSink, open_source

    site = load_site(clip.site)
    frames = 0
    started = time.perf_counter()
    sink: VideoSink | None = None
    try:
        built = options()
        if built.get("draw", True):
            sink = VideoSink(clip.clip.with_name(f"{name.replace(' ', '-')}.annotated.mp4"), clip.fps)
        processor = PathKeepingProcessor(site, **built)
        for frame in processor.run((source or open_source)(clip.clip)):
            if sink is not None:
                sink.write(frame.image, frame.time_s)
            frames += 1
            if on_frame:
                on_frame(name, clip.frames)
        if sink is not None:
            sink.close()
    except Exception as exc:  # a pipeline that breaks on the clip is a finding: the others still run
        if sink is not None:
            sink.close()
        wall, load = time.perf_counter() - started, os.getloadavg()[0]
        done_s = frames / clip.fps  # its real-time factor is over the footage it got through
        return PipelineRun(name, frames, wall, done_s, load=load, failed=f"{type(exc).__name__}: {exc}")
    wall = time.perf_counter() - started
    found = score(clip.cars, processor.closed)
    return PipelineRun(name, frames, wall, clip.seconds, found, os.getloadavg()[0])


def bench_realtime(
    cars: int = 12, seed: int = 0, on_step: Tick | None = None
) -> tuple[RoadClip, list[PipelineRun]]:
    """The road clip (built in a temporary folder, gone afterwards) decoded, through the naive loop,
    through `anpr process` and through it without the video (a live camera's cost: anpr watch), one
    after the other on the same machine."""
    from anpr.lab.roadclip import road_clip

    with tempfile.TemporaryDirectory(prefix="anpr-roadclip-") as tmp:
        clip = road_clip(cars, seed, Path(tmp), on_step)
        runs = [
            decode_only(clip, on_step),
            run_pipeline(NAIVE, clip, naive_options, on_step),
            run_pipeline(SHIPPED, clip, shipped_options, on_step, shipped_source),
            run_pipeline(LIVE, clip, live_options, on_step, shipped_source),
        ]
    return clip, runs


def main(argv: list[str]) -> None:
    from anpr.lab.datasets import shared_datasets

    root = shared_datasets()
    if root is None:
        raise SystemExit("../shared/datasets is absent (set ANPR_DATASETS)")
    if argv[:1] == ["realtime"]:
        clip, runs = bench_realtime(int(argv[1]) if len(argv) > 1 else 12)
        rows = [{"clip": clip.describe(), "cars": [c.to_json() for c in clip.cars]}]
        rows += [run.to_json() for run in runs]
    elif argv[:1] == ["photos"]:
        rows = bench_photos(int(argv[1]) if len(argv) > 1 else 10)
    else:
        rows = bench_footage(root)
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
