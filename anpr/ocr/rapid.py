"""RapidOCR (PaddleOCR PP-OCRv4, ONNX) as a plate reader: a general text engine, kept as the
baseline the trained recognizer is measured against."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from anpr.ocr.base import PlateReader
from anpr.ocr.text import plate_read_from_lines
from anpr.types import PlateRead
from anpr.weights import weight_path


class RapidOcrReader(PlateReader):
    name = "rapidocr"

    @cached_property
    def engine(self):
        from rapidocr_onnxruntime import RapidOCR

        return RapidOCR(
            det_model_path=str(weight_path("rapidocr-detector")),
            rec_model_path=str(weight_path("rapidocr-recognizer")),
            cls_model_path=str(weight_path("rapidocr-classifier")),
            print_verbose=False,
        )

    def read(self, crop: np.ndarray, region: str = "auto") -> PlateRead:
        if crop is None or crop.size == 0 or min(crop.shape[:2]) < 4:
            return PlateRead(text="", confidence=0.0, region=region)
        result, _ = self.engine(crop)
        # Each item: [quad, text, score]; order lines top to bottom by the quad's centre.
        lines = sorted(result or [], key=lambda item: float(np.mean([p[1] for p in item[0]])))
        return plate_read_from_lines([(item[1], float(item[2])) for item in lines], region)
