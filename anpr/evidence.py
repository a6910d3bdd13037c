"""Evidence images for a vehicle event: the scene before, at and after the offence with the vehicle
boxed, the plate close-up, each under a data bar (site, time, speed against the limit, time into
red). Files are written once and described by their SHA-256, which the records keep."""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from anpr.annotate import data_bar, highlight
from anpr.types import Evidence, VehicleEvent

SCENES = ("scene_before", "scene_at", "scene_after")


@dataclass
class KeyFrames:
    """The frames a track's evidence is cut from: `at` the moment (the stop-line crossing, else the
    best plate read), `before` and `after` about half a second either side. Each is (frame index,
    image, box of the vehicle)."""

    frames: dict[str, tuple[int, np.ndarray, tuple]] = field(default_factory=dict)
    score: float = float("-inf")
    locked: bool = False  # the crossing moment is not replaced by a better plate read
    after_due: int | None = None  # the frame index `after` is taken at


class KeyMoments:
    """The key frames stage: picks each track's evidence frames as the footage goes by. The moment
    is the stop-line crossing (kept once found), else the frame of the best plate read so far, else
    the first frame its ground point was seen; `before` is the oldest of the last half second of
    frames, `after` the track's box half a second later."""

    def __init__(self, fps: float):
        self.recent: deque[tuple[int, np.ndarray]] = deque(maxlen=max(2, round(0.5 * fps)) + 1)

    def frame(self, index: int, image: np.ndarray) -> None:
        """Every frame passes here first (the `before` frames come from these)."""
        self.recent.append((index, image))

    def seen(self, keys: KeyFrames, box_at, index: int, image: np.ndarray, box, crossed: bool, clipped: bool):
        """A track seen in a detection frame. `box_at(index)` gives its box in an earlier frame."""
        if keys.after_due is not None and index >= keys.after_due:
            keys.frames["scene_after"] = (index, image, tuple(box))
            keys.after_due = None
        if clipped:
            return
        if crossed:
            self.offer(keys, box_at, index, image, box, score=np.inf)
        if not keys.frames:
            self.offer(keys, box_at, index, image, box, score=-1.0)

    def offer(self, keys: KeyFrames, box_at, index: int, image: np.ndarray, box, score: float) -> None:
        """A candidate moment, taken when it scores above the one held (a crossing scores infinity)."""
        if keys.locked or score <= keys.score:
            return
        keys.score, keys.locked = score, score == np.inf
        keys.frames = {"scene_at": (index, image, tuple(box))}
        before_index, before_image = self.recent[0]
        if before_index < index:
            keys.frames["scene_before"] = (before_index, before_image, box_at(before_index))
        keys.after_due = index + (self.recent.maxlen or 1) - 1


def data_lines(
    event: VehicleEvent, site_name: str, limit_kmh: float | None, codes: Sequence[str], moment: datetime
) -> list[str]:
    plate = event.plate.text if event.plate and event.plate.text else "(unreadable)"
    stamp = moment.isoformat(timespec="milliseconds")
    lines = [
        f"{event.site_id}  {site_name}  {stamp}",
        f"track {event.track_id}  {event.vehicle_type}  plate {plate}",
    ]
    measured = []
    if event.speed_kmh is not None:
        limit = f" / limit {limit_kmh:g} km/h" if limit_kmh else ""
        measured.append(f"speed {event.speed_kmh:.1f} km/h{limit} ({event.speed_method})")
    if event.crossed_stop_line_at is not None:
        state = (event.signal_state_at_crossing or "unknown").upper()
        if event.red_onset_at is not None:
            into = (event.crossed_stop_line_at - event.red_onset_at).total_seconds()
            amber = f", amber {event.amber_seconds:.1f} s" if event.amber_seconds is not None else ""
            state += f" +{into:.2f} s into red{amber}"
        measured.append(f"stop line {state}")
    lines.append("  ".join(measured) or "no measurement")
    if codes:
        # What the camera found, not what became of it: the still is kept as written, and the review
        # state (pending, issued, rejected) lives in the records and the pages, never in the picture.
        lines.append("camera finding: " + ", ".join(codes))
    return lines


def write_evidence(
    out_dir: Path,
    event: VehicleEvent,
    keyframes: KeyFrames,
    plate_crop: np.ndarray | None,
    start_time: datetime,
    fps: float,
    site_name: str,
    limit_kmh: float | None,
    codes: Sequence[str],
) -> tuple[Evidence, ...]:
    """Write the images (JPEG, quality 92) and return their descriptions, scenes in time order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{_safe(event.site_id)}_{event.first_seen:%Y%m%dT%H%M%S}_t{event.track_id}"
    written = []
    for kind in SCENES:
        if kind not in keyframes.frames:
            continue
        index, image, box = keyframes.frames[kind]
        moment = start_time + timedelta(seconds=index / fps)
        picture = data_bar(highlight(image, box), data_lines(event, site_name, limit_kmh, codes, moment))
        written.append(_write(out_dir / f"{stem}_{kind}.jpg", picture, kind))
    if plate_crop is not None and plate_crop.size:
        crop = _enlarge(plate_crop, 360)
        moment = event.crossed_stop_line_at or event.first_seen
        plate = event.plate
        label = f"{plate.text} ({plate.confidence:.2f})" if plate and plate.text else "(unreadable)"
        picture = data_bar(
            crop, [f"{event.site_id} t{event.track_id}", label, moment.strftime("%Y-%m-%d %H:%M:%S")]
        )
        written.append(_write(out_dir / f"{stem}_plate.jpg", picture, "plate_crop"))
    return tuple(written)


def _write(path: Path, image: np.ndarray, kind: str) -> Evidence:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise OSError(f"{path}: could not encode evidence image")
    data = encoded.tobytes()
    path.write_bytes(data)
    return Evidence(kind=kind, path=str(path.resolve()), sha256=hashlib.sha256(data).hexdigest())


def _enlarge(image: np.ndarray, width: int) -> np.ndarray:
    if image.shape[1] >= width:
        return image
    scale = width / image.shape[1]
    return cv2.resize(image, (width, max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_CUBIC)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text)
