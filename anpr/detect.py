"""Detectors behind one small interface: vehicles (COCO YOLOv8n) and plates (YOLOv8n plate model),
both run on onnxruntime at any input size by anpr.yolo (no Ultralytics or PyTorch at run time). Both
return supervision.Detections, vehicles with their type under data["vehicle_type"]."""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property
from typing import cast

import numpy as np
import supervision as sv

from anpr.weights import weight_path

VEHICLE_TYPE = "vehicle_type"  # the name of the Detections.data field, declared once

# COCO class -> our vehicle type. Rickshaws have no COCO class; the COCO model calls them
# motorcycle or car, so they stay that until a local model is trained.
COCO_VEHICLES = {2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


class Detector(ABC):
    @abstractmethod
    def detect(self, image: np.ndarray) -> sv.Detections: ...

    def detect_many(self, images: list[np.ndarray], imgsz: int | None = None) -> list[sv.Detections]:
        """Each image's detections (at input size `imgsz`, where the detector has one to set); a
        detector that can run them as one batch does."""
        return [self.detect(image) for image in images]


class _YoloDetector(Detector):
    """A YOLOv8 head file (anpr.yolo) loaded once, on first use. Each image is scaled so that its
    longer side is `imgsz` and padded only to a multiple of 32 (a 1920x1080 frame runs at 640x384).
    `precision` "int8" runs the vehicle model's int8 copy (anpr.lab.quantize): about 1.5x faster on
    a CPU, boxes within a pixel or two; video runs it where ANPR_VIDEO_DETECTOR=int8."""

    weights: dict[str, str]  # precision -> manifest entry
    default_conf: float = 0.25
    classes: list[int] | None = None

    def __init__(
        self,
        conf: float | None = None,
        imgsz: int = 640,
        threads: int | None = None,
        precision: str = "float32",
    ):
        if precision not in self.weights:
            raise ValueError(f"precision {precision!r}: one of {', '.join(self.weights)}")
        self.conf = self.default_conf if conf is None else conf
        self.imgsz, self.threads, self.precision = imgsz, threads, precision

    @cached_property
    def model(self):
        from anpr.yolo import YoloHeads

        return YoloHeads(weight_path(self.weights[self.precision]), self.threads)

    def detect(self, image: np.ndarray) -> sv.Detections:
        return self.detect_many([image])[0]

    def detect_many(self, images: list[np.ndarray], imgsz: int | None = None) -> list[sv.Detections]:
        found = self.model.detect(images, imgsz or self.imgsz, self.conf, classes=self.classes)
        return [self._finish(_detections(*result)) for result in found]

    def _finish(self, detections: sv.Detections) -> sv.Detections:
        return detections


def detect_in_boxes(
    detector: Detector, image: np.ndarray, boxes: np.ndarray | list, imgsz: int | None = None
) -> list[sv.Detections]:
    """`detector` on the part of `image` inside each box (cut at the image's edges), in one batch at
    input size `imgsz` (None: the detector's own), each box's detections in image coordinates. A box
    with nothing of the image inside it is not searched."""
    height, width = image.shape[:2]
    parts = np.clip(np.asarray(boxes, float).reshape(-1, 4), 0, [width, height, width, height]).astype(int)
    parts = [(x1, y1, x2, y2) for x1, y1, x2, y2 in parts if x2 > x1 and y2 > y1]
    if not parts:
        return []
    found = detector.detect_many([image[y1:y2, x1:x2] for x1, y1, x2, y2 in parts], imgsz)
    for inside, (x1, y1, _, _) in zip(found, parts, strict=True):
        if len(inside):
            inside.xyxy = inside.xyxy + np.array([x1, y1, x1, y1], dtype=inside.xyxy.dtype)
    return found


def _detections(xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray) -> sv.Detections:
    return sv.Detections(
        xyxy=xyxy.astype(np.float32).reshape(-1, 4),
        confidence=confidence.astype(np.float32),
        class_id=class_id.astype(int),
    )


class VehicleDetector(_YoloDetector):
    weights = {"float32": "vehicle-detector-heads", "int8": "vehicle-detector-int8"}
    default_conf = 0.3
    classes = list(COCO_VEHICLES)

    def _finish(self, detections: sv.Detections) -> sv.Detections:
        class_id = detections.class_id
        assert class_id is not None  # _detections always sets class_id
        detections.data[VEHICLE_TYPE] = np.array(
            [COCO_VEHICLES.get(int(c), "unknown") for c in class_id], dtype=np.object_
        ).reshape(-1)
        return without_parts(detections.with_nms(threshold=0.6, class_agnostic=True))


# A box this much inside a larger, more confident box of the same vehicle type is a part of that
# vehicle (a tail light and wing the COCO model also calls a car), not a second vehicle; its IoU
# with the whole is too small for NMS. Of another type it stays: a motorcycle in front of a bus.
PART_INSIDE = 0.8


def without_parts(detections: sv.Detections, inside: float = PART_INSIDE) -> sv.Detections:
    """`detections` less each box at least `inside` of whose area lies within a larger, more
    confident box of the same class."""
    if len(detections) < 2:
        return detections
    xyxy = detections.xyxy
    confidence = detections.confidence if detections.confidence is not None else np.ones(len(detections))
    class_id = detections.class_id if detections.class_id is not None else np.zeros(len(detections), int)
    area = np.asarray(detections.area, dtype=float)
    # [i, j]: the share of the smaller box inside the other; where j is the larger, i's share
    inside_of = sv.box_iou_batch(xyxy, xyxy, overlap_metric=sv.OverlapMetric.IOS)
    whole = (
        (class_id[:, None] == class_id[None, :])
        & (area[None, :] > area[:, None])
        & (confidence[None, :] > confidence[:, None])
    )
    part = ((inside_of >= inside) & whole).any(axis=1)
    return cast(sv.Detections, detections[~part]) if part.any() else detections


class PlateDetector(_YoloDetector):
    """The shipped plate model draws boxes about 10 % wider and 35 % taller than the plate itself
    (it was trained to another box convention). BOX_SCALE shrinks them about their centre to the
    plate's edges: the median label/detection ratio on the openalpr-dev *training* split (112
    plates); on the validation split it lifts recall at IoU 0.5 from 84 % to the figure in the README."""

    weights = {"float32": "plate-detector-heads"}  # int8 moved plate boxes (docs/notes/int8-detectors.md)
    default_conf = 0.05
    BOX_SCALE = (0.90, 0.73)

    def _finish(self, detections: sv.Detections) -> sv.Detections:
        if len(detections):
            detections.xyxy = scale_boxes(detections.xyxy, *self.BOX_SCALE)
        return detections


def scale_boxes(xyxy: np.ndarray, scale_w: float, scale_h: float) -> np.ndarray:
    """Boxes resized about their centres."""
    cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
    half_w, half_h = (xyxy[:, 2] - xyxy[:, 0]) * scale_w / 2, (xyxy[:, 3] - xyxy[:, 1]) * scale_h / 2
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1).astype(xyxy.dtype)
