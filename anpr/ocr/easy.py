"""EasyOCR (English) as a plate reader: the generic baseline; weights from models/easyocr only."""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np

from anpr.ocr.base import PlateReader
from anpr.ocr.text import plate_read_from_lines
from anpr.types import PlateRead
from anpr.weights import weight_path


class EasyOcrReader(PlateReader):
    name = "easyocr"

    @cached_property
    def engine(self):
        import easyocr

        weight_path("easyocr-detector")  # verifies both files before EasyOCR looks for them
        directory = weight_path("easyocr-recognizer").parent
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return easyocr.Reader(
                ["en"],
                gpu=False,
                model_storage_directory=str(directory),
                download_enabled=False,
                verbose=False,
            )

    def read(self, crop: np.ndarray, region: str = "auto") -> PlateRead:
        if crop is None or crop.size == 0 or min(crop.shape[:2]) < 4:
            return PlateRead(text="", confidence=0.0, region=region)
        with warnings.catch_warnings():  # torch deprecation notes from inside EasyOCR, not ours to fix
            warnings.simplefilter("ignore")
            result = self.engine.readtext(crop, allowlist="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        lines = sorted(result, key=lambda item: float(np.mean([p[1] for p in item[0]])))
        return plate_read_from_lines([(item[1], float(item[2])) for item in lines], region)
