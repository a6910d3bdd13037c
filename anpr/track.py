"""Vehicle tracks: Ultralytics' ByteTrack behind a supervision-style `update_with_detections`, and
fragment merging, because ByteTrack gives a vehicle a new id after it is missed for a while (an
occlusion, a blurred frame). A new id that appears where a recently lost track was heading takes
the lost track's id."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast

import cv2
import numpy as np
import supervision as sv

from anpr.weights import offline_ultralytics


class _Boxes:
    """The Results-like view ByteTrack reads: conf, cls, xywh, boolean indexing."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray):
        self.xyxy, self.conf, self.cls = xyxy, conf, cls
        self.xywh = np.concatenate([(xyxy[:, :2] + xyxy[:, 2:]) / 2, xyxy[:, 2:] - xyxy[:, :2]], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> _Boxes:
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


class VehicleTracker:
    """Track ids for vehicle detections. Returns the detections the tracker kept this frame (raw
    detector boxes, not Kalman-smoothed: speed is measured on what the camera saw) with
    `tracker_id` set to a stable id."""

    def __init__(
        self,
        fps: float,
        lost_buffer_s: float = 1.0,
        merge_gap_s: float = 1.5,
        high_thresh: float = 0.25,
        low_thresh: float = 0.1,
        match_thresh: float = 0.8,
    ):
        offline_ultralytics()
        from ultralytics.trackers.byte_tracker import BYTETracker

        args = SimpleNamespace(
            track_high_thresh=high_thresh,
            track_low_thresh=low_thresh,
            new_track_thresh=high_thresh,
            track_buffer=max(1, round(lost_buffer_s * fps)),
            match_thresh=match_thresh,
            # IoU alone, not IoU times the detection's score: a vehicle close to the camera, detected
            # at 0.2-0.4 while it leaves the picture, was otherwise never matched to its own track
            # (anpr bench video --realtime, docs/notes/video-reads.md)
            fuse_score=False,
        )
        self.byte = BYTETracker(args)
        self.merger = FragmentMerger(max_gap_frames=max(1, round(merge_gap_s * fps)))
        self.frame_index = -1

    def update_with_detections(self, detections: sv.Detections) -> sv.Detections:
        self.frame_index += 1
        if len(detections) == 0:
            self.byte.update(_Boxes(np.zeros((0, 4)), np.zeros(0), np.zeros(0)))
            return _none_of(detections)
        conf = detections.confidence if detections.confidence is not None else np.ones(len(detections))
        cls = detections.class_id if detections.class_id is not None else np.zeros(len(detections))
        rows = self.byte.update(_Boxes(detections.xyxy.astype(float), conf.astype(float), cls.astype(float)))
        if not len(rows):  # nothing confirmed yet (a new track needs a second frame)
            return _none_of(detections)
        index = rows[:, 7].astype(int)
        kept = cast(sv.Detections, detections[index])  # supervision types __getitem__ as a union
        kept.tracker_id = self.merger.assign(rows[:, 4].astype(int), kept.xyxy, self.frame_index)
        return kept


def _none_of(detections: sv.Detections) -> sv.Detections:
    empty = cast(sv.Detections, detections[np.zeros(len(detections), dtype=bool)])  # a mask gives Detections
    empty.tracker_id = np.zeros(0, dtype=int)
    return empty


@dataclass
class _Last:
    frame: int
    box: np.ndarray
    velocity: np.ndarray  # box change per frame, smoothed


class FragmentMerger:
    """Maps tracker ids to stable ids. A tracker id seen for the first time continues a stable track
    that was last seen at most max_gap_frames ago, if the lost track's box, carried forward at its
    last velocity, lands on the new box (IoU >= min_iou, or centres closer than half the new box's
    larger side). Otherwise it starts a stable track of its own."""

    def __init__(self, max_gap_frames: int, min_iou: float = 0.3):
        self.max_gap_frames, self.min_iou = max_gap_frames, min_iou
        self.alias: dict[int, int] = {}
        self.last: dict[int, _Last] = {}

    def assign(self, raw_ids: np.ndarray, boxes: np.ndarray, frame: int) -> np.ndarray:
        out = np.empty(len(raw_ids), dtype=int)
        taken = {self.alias[int(r)] for r in raw_ids if int(r) in self.alias}
        used: set[int] = set()
        for i, (raw, box) in enumerate(zip(raw_ids, boxes, strict=True)):
            raw = int(raw)
            if raw not in self.alias:
                self.alias[raw] = self._continuation(np.asarray(box, float), frame, taken) or raw
                taken.add(self.alias[raw])
            if self.alias[raw] in used:  # ByteTrack revived the old id beside its continuation
                self.alias[raw] = raw
            stable = self.alias[raw]
            used.add(stable)
            self._remember(stable, np.asarray(box, float), frame)
            out[i] = stable
        return out

    def _continuation(self, box: np.ndarray, frame: int, taken: set[int]) -> int | None:
        best, best_distance = None, np.inf
        for stable, last in self.last.items():
            gap = frame - last.frame
            if stable in taken or gap <= 0 or gap > self.max_gap_frames:
                continue
            predicted = last.box + last.velocity * gap
            distance = float(np.hypot(*(_centre(predicted) - _centre(box))))
            near = distance <= 0.5 * max(box[2] - box[0], box[3] - box[1])
            if (near or iou(predicted, box) >= self.min_iou) and distance < best_distance:
                best, best_distance = stable, distance
        return best

    def _remember(self, stable: int, box: np.ndarray, frame: int) -> None:
        previous = self.last.get(stable)
        velocity = np.zeros(4)
        if previous is not None:
            step = (box - previous.box) / max(1, frame - previous.frame)
            velocity = step if not previous.velocity.any() else 0.5 * step + 0.5 * previous.velocity
        self.last[stable] = _Last(frame, box, velocity)

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
