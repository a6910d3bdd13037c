"""Vehicle tracks: Roboflow's ByteTrack (the `trackers` package: NumPy, no PyTorch) behind a
supervision-style `update_with_detections`, and fragment merging, because ByteTrack gives a vehicle
a new id after it is missed for a while (an occlusion, a blurred frame). A new id that appears where
a recently lost track was heading takes the lost track's id.

Video is detected on a variable schedule (anpr.process.DetectionSchedule: every frame while a
vehicle appears, every 4th or so otherwise), so each update carries its frame's time: the tracker's
Kalman filter predicts over the real interval, not one step per update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import supervision as sv


class VehicleTracker:
    """Track ids for vehicle detections. Returns the detections the tracker kept this frame (raw
    detector boxes, not Kalman-smoothed: speed is measured on what the camera saw) with
    `tracker_id` set to a stable id. `fps`: updates a second (without times, one update is one
    step of 1/fps)."""

    def __init__(
        self,
        fps: float,
        lost_buffer_s: float = 1.0,
        merge_gap_s: float = 1.5,
        high_thresh: float = 0.25,
        min_iou: float = 0.2,
    ):
        from trackers import ByteTrackTracker

        # Matching is on IoU alone (not IoU times the detection's score, as Ultralytics' ByteTrack
        # can): a vehicle close to the camera, detected at 0.2-0.4 while it leaves the picture, was
        # otherwise never matched to its own track (docs/notes/video-reads.md).
        self.byte = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_buffer_s * 30)),  # the package counts 30 fps frames
            frame_rate=fps,
            track_activation_threshold=high_thresh,
            high_conf_det_threshold=high_thresh,
            minimum_iou_threshold=min_iou,
            minimum_consecutive_frames=2,
        )
        self.merger = FragmentMerger(max_gap_s=merge_gap_s)
        self.fps = fps
        self.frame_index = -1

    def update_with_detections(self, detections: sv.Detections, time_s: float | None = None) -> sv.Detections:
        """The tracked vehicles among `detections`, seen at `time_s` seconds (None: one step
        after the last update)."""
        self.frame_index += 1
        tracked = self.byte.update(detections, timestamp=time_s)
        assert tracked.tracker_id is not None  # ByteTrackTracker sets ids on every result
        kept = cast(sv.Detections, tracked[tracked.tracker_id >= 0])  # -1: not (yet) a track
        if not len(kept):
            return _none_of(detections)
        assert kept.tracker_id is not None
        raw = kept.tracker_id.astype(int) + 1  # ids from 1, as the overlay shows them
        # fragments are joined by time: the schedule detects every frame at times, every 4th at others
        at = time_s if time_s is not None else self.frame_index / self.fps
        kept.tracker_id = self.merger.assign(raw, kept.xyxy, at)
        return kept


def _none_of(detections: sv.Detections) -> sv.Detections:
    empty = cast(sv.Detections, detections[np.zeros(len(detections), dtype=bool)])  # a mask gives Detections
    empty.tracker_id = np.zeros(0, dtype=int)
    return empty


# A lost track's velocity is measured over at least this long: a step of one frame (40 ms) turns a
# few pixels of box jitter into a speed that carries the box far off over a gap of seconds
VELOCITY_BASE_S = 0.2


@dataclass
class _Last:
    time_s: float
    box: np.ndarray
    velocity: np.ndarray  # box change per second, over the last VELOCITY_BASE_S or more
    history: list[tuple[float, np.ndarray]]  # the sightings it is measured over, oldest first


class FragmentMerger:
    """Maps tracker ids to stable ids. A tracker id seen for the first time continues a stable track
    that was last seen at most max_gap_s seconds ago, if the lost track's box, carried forward at its
    last velocity, lands on the new box (IoU >= min_iou, or centres closer than half the new box's
    larger side). Otherwise it starts a stable track of its own.

    Gaps and velocities are in seconds, not updates: video is detected every frame while a vehicle
    appears and every 4th frame otherwise, so a count of updates is a quarter of a second at one
    moment and two seconds at another (before 2026-12-07 the window was 12 updates)."""

    def __init__(self, max_gap_s: float, min_iou: float = 0.3):
        self.max_gap_s, self.min_iou = max_gap_s, min_iou
        self.alias: dict[int, int] = {}
        self.last: dict[int, _Last] = {}

    def assign(self, raw_ids: np.ndarray, boxes: np.ndarray, time_s: float) -> np.ndarray:
        out = np.empty(len(raw_ids), dtype=int)
        taken = {self.alias[int(r)] for r in raw_ids if int(r) in self.alias}
        used: set[int] = set()
        for i, (raw, box) in enumerate(zip(raw_ids, boxes, strict=True)):
            raw = int(raw)
            if raw not in self.alias:
                continued = self._continuation(np.asarray(box, float), time_s, taken)
                self.alias[raw] = raw if continued is None else continued
                taken.add(self.alias[raw])
            if self.alias[raw] in used:  # ByteTrack revived the old id beside its continuation
                self.alias[raw] = raw
            stable = self.alias[raw]
            used.add(stable)
            self._remember(stable, np.asarray(box, float), time_s)
            out[i] = stable
        return out

    def _continuation(self, box: np.ndarray, time_s: float, taken: set[int]) -> int | None:
        best, best_distance = None, np.inf
        for stable, last in self.last.items():
            gap = time_s - last.time_s
            if stable in taken or gap <= 0 or gap > self.max_gap_s + 1e-9:
                continue
            predicted = last.box + last.velocity * gap
            distance = float(np.hypot(*(_centre(predicted) - _centre(box))))
            near = distance <= 0.5 * max(box[2] - box[0], box[3] - box[1])
            if (near or iou(predicted, box) >= self.min_iou) and distance < best_distance:
                best, best_distance = stable, distance
        return best

    def _remember(self, stable: int, box: np.ndarray, time_s: float) -> None:
        """The track's last box and its velocity from the latest sighting at least VELOCITY_BASE_S
        before this one (not smoothed over the whole track: a vehicle coming towards the camera
        speeds up and grows in the picture, and a smoothed velocity lagged behind it)."""
        previous = self.last.get(stable)
        history = [*(previous.history if previous else []), (time_s, box)]
        base = [k for k, (t, _) in enumerate(history) if time_s - t >= VELOCITY_BASE_S]
        history = history[base[-1] :] if base else history
        t0, box0 = history[0]
        velocity = (box - box0) / (time_s - t0) if time_s > t0 else np.zeros(4)
        self.last[stable] = _Last(time_s, box, velocity, history)

    def forget(self, stable: int) -> None:
        self.last.pop(stable, None)


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


# --- vehicle colour -----------------------------------------------------------------------------

_HUE_NAMES = ((10, "red"), (25, "orange"), (35, "yellow"), (85, "green"), (130, "blue"), (160, "purple"))


def vehicle_colour(crop: np.ndarray) -> str | None:
    """A plain colour name for the body: the middle of the box (windows, road and wheels mostly
    fall outside it), by the median of its saturated pixels, else by brightness."""
    if crop.size == 0:
        return None
    h, w = crop.shape[:2]
    body = crop[int(h * 0.45) : int(h * 0.8), int(w * 0.2) : int(w * 0.8)]
    if body.size == 0:
        return None
    hsv = cv2.cvtColor(body, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(float)
    saturated = hsv[(hsv[:, 1] >= 90) & (hsv[:, 2] >= 60)]
    if len(saturated) >= 0.35 * len(hsv):
        hue = float(np.median(saturated[:, 0]))
        return next((name for limit, name in _HUE_NAMES if hue < limit), "red")
    value = float(np.median(hsv[:, 2]))
    return "white" if value >= 190 else "silver" if value >= 130 else "grey" if value >= 70 else "black"
