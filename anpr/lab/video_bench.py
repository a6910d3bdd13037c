"""Video benchmarks on real pixels (never committed; built from ../shared/datasets at run time):

photos  a real car photo from openalpr-dev (validation half) cut out and driven down the drawn road
        at a known speed, through the whole pipeline: speed error and per-vehicle plate accuracy.
footage the real car-park clip (videos/car-detection.mp4): tracks, fragments and speeds, for
        plausibility (its plates are not legible and its calibration is estimated).

    python -m anpr.lab.video_bench photos [N] | footage      (results as JSON lines on stdout)"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anpr.lab.scene import Camera, Painter, draw_road

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
        _paste(frame, car, camera, 1.75, y)
        writer.write(frame)
    writer.release()
    image_points = [
        [round(float(a), 1), round(float(b), 1)]
        for a, b in camera.ground_to_image([(0, 0), (7, 0), (7, 30), (0, 30)])
    ]
    stop = [
        [round(float(a), 1), round(float(b), 1)]
        for a, b in camera.ground_to_image([(0, STOP_Y), (7, STOP_Y)])
    ]
    site = out_dir / "photo.yaml"
    site.write_text(
        "site: {id: BENCH-PHOTO, name: bench}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        f"calibration: {{image: {image_points}, world: [[0, 0], [7, 0], [7, 30], [0, 30]]}}\n"
        f"speed: {{limit_kmh: 60}}\nsignal: {{stop_line: {stop}}}\n"
    )
    return PhotoClip(clip, site, plate, kmh, photo)


def _paste(frame: np.ndarray, car: np.ndarray, camera: Camera, x: float, y: float) -> None:
    depth = camera.to_camera(np.array([x, y, 0.0]))[2]
    width = camera.focal_px * CAR_WIDTH_M / depth
    height = width * car.shape[0] / car.shape[1]
    bx, by = camera.ground_to_image([(x, y)])[0]
    x0, y0 = int(round(bx - width / 2)), int(round(by - height))
    w, h = int(round(width)), int(round(height))
    if w < 4 or h < 4:
        return
    sprite = cv2.resize(car, (w, h), interpolation=cv2.INTER_AREA)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if fx1 > fx0 and fy1 > fy0:
        frame[fy0:fy1, fx0:fx1] = sprite[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]


def process(clip: Path, site_path: Path, processor_options: dict | None = None) -> tuple[list, float, int]:
    """(vehicle events, seconds, frames) for a clip through the full pipeline (no records, no files)."""
    from anpr.process import VideoProcessor
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


def main(argv: list[str]) -> None:
    from anpr.lab.datasets import shared_datasets

    root = shared_datasets()
    if root is None:
        raise SystemExit("../shared/datasets is absent (set ANPR_DATASETS)")
    rows = (
        bench_photos(int(argv[1]) if len(argv) > 1 else 10) if argv[:1] == ["photos"] else bench_footage(root)
    )
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
