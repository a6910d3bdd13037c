"""Detectors behind one small interface: vehicles (COCO YOLOv8n, ONNX) and plates (YOLOv8n plate
model). Both return supervision.Detections with the vehicle type under data["vehicle_type"]."""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property

import numpy as np
import supervision as sv

from anpr.weights import offline_ultralytics, weight_path

VEHICLE_TYPE = "vehicle_type"  # the name of the Detections.data field, declared once

# COCO class -> our vehicle type. Rickshaws have no COCO class; the COCO model calls them
# motorcycle or car, so they stay that until a local model is trained.
COCO_VEHICLES = {2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


class Detector(ABC):
    @abstractmethod
    def detect(self, image: np.ndarray) -> sv.Detections: ...


class _UltralyticsDetector(Detector):
    """Adapter over an Ultralytics YOLO model file (.onnx or .pt), loaded once, on first use."""

    weight_name: str
    default_conf: float = 0.25

    def __init__(self, conf: float | None = None, imgsz: int = 640):
        self.conf = self.default_conf if conf is None else conf
        self.imgsz = imgsz

    @cached_property
    def model(self):
        offline_ultralytics()
        from ultralytics import YOLO

        return YOLO(str(weight_path(self.weight_name)), task="detect")

    def _predict(self, image: np.ndarray, classes=None) -> sv.Detections:
        result = self.model.predict(
            image, conf=self.conf, imgsz=self.imgsz, classes=classes, verbose=False, device="cpu"
        )[0]
        return sv.Detections.from_ultralytics(result)


class VehicleDetector(_UltralyticsDetector):
    weight_name = "vehicle-detector"
    default_conf = 0.3

    def detect(self, image: np.ndarray) -> sv.Detections:
        detections = self._predict(image, classes=list(COCO_VEHICLES))
        class_id = detections.class_id
        assert class_id is not None  # from_ultralytics always sets class_id
        detections.data[VEHICLE_TYPE] = np.array(
            [COCO_VEHICLES.get(int(c), "unknown") for c in class_id], dtype=np.object_
        ).reshape(-1)
        return detections.with_nms(threshold=0.6, class_agnostic=True)


class PlateDetector(_UltralyticsDetector):
    """The shipped plate model draws boxes about 10 % wider and 35 % taller than the plate itself
    (it was trained to another box convention). BOX_SCALE shrinks them about their centre to the
    plate's edges: the median label/detection ratio on the openalpr-dev *training* split (112
    plates); on the validation split it lifts recall at IoU 0.5 from 84 % to the figure in the README."""

    weight_name = "plate-detector"
    default_conf = 0.05
    BOX_SCALE = (0.90, 0.73)

    def detect(self, image: np.ndarray) -> sv.Detections:
        detections = self._predict(image)
        if len(detections):
            detections.xyxy = scale_boxes(detections.xyxy, *self.BOX_SCALE)
        return detections


def scale_boxes(xyxy: np.ndarray, scale_w: float, scale_h: float) -> np.ndarray:
    """Boxes resized about their centres."""
    cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
    half_w, half_h = (xyxy[:, 2] - xyxy[:, 0]) * scale_w / 2, (xyxy[:, 3] - xyxy[:, 1]) * scale_h / 2
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1).astype(xyxy.dtype)
