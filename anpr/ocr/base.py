"""The plate-reader interface: one method, so that engines (the project's own recognizer, RapidOCR,
EasyOCR) are interchangeable behind the pipeline."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from anpr.types import PlateRead


class PlateReader(ABC):
    """Reads the text of a plate crop (BGR uint8). Returns a PlateRead whose text may be empty when
    nothing legible was found; never raises for an unreadable plate."""

    name: str = "reader"

    @abstractmethod
    def read(self, crop: np.ndarray, region: str = "auto") -> PlateRead: ...

    def read_batch(self, crops: list[np.ndarray], region: str = "auto") -> list[PlateRead]:
        return [self.read(crop, region) for crop in crops]
