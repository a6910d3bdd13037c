"""Whether a frame needs the vehicle detector at all. A fixed camera on a quiet road sees long
stretches where nothing moves: no vehicle is tracked, the detector found nothing last time, and the
picture is the one it last saw. The detector is skipped on such frames (its empty answer is what it
would find again), so a camera costs what its traffic costs.

The change is measured on the frames shrunk to an eighth (grey, blurred) against the last frame the
detector ran on. The detector runs anyway at the first frame and every `full_every_s`: a safety net
for a vehicle that changed the picture too little to be seen.

Tried and not kept: running the detector on the changed part of the frame only, at the scale of the
whole frame. On the road bench's training-half clips the union of moving cars, widened so as to hold
each car whole, covered 60 % of the frame or more on a fifth of the detection frames, and the boxes
found in a part differed from the whole frame's enough to split one car in two and put one speed 4 %
off (docs/notes/realtime-2.md)."""

from __future__ import annotations

import cv2
import numpy as np

SHRINK = 8  # the difference image is this many times smaller on each side
THRESHOLD = 25  # grey levels: a cell changed when it differs by more (sensor noise is under 10)


class Stillness:
    def __init__(self, full_every_s: float = 2.0):
        self.full_every_s = full_every_s
        self._seen: np.ndarray | None = None  # the last frame the detector ran on
        self._seen_small: np.ndarray | None = None  # ... shrunk, once it is compared with
        self._run_s = -np.inf  # when the detector was last run
        self.skipped = 0  # frames the detector was spared

    def worth_detecting(self, image: np.ndarray, time_s: float, busy: bool) -> bool:
        """False where nothing is tracked or was found last time (`busy`), the picture has not
        changed since the detector last ran, and its safety-net run is not due. Frames are shrunk
        only where they are compared: on a busy road, never."""
        still = (
            not busy
            and self._seen is not None
            and time_s - self._run_s < self.full_every_s
            and self._unchanged(image)
        )
        if still:
            self.skipped += 1
            return False
        self._seen, self._seen_small, self._run_s = image, None, time_s
        return True

    def _unchanged(self, image: np.ndarray) -> bool:
        assert self._seen is not None  # the caller checks
        if self._seen_small is None:
            self._seen_small = _shrunk(self._seen)
        small = _shrunk(image)
        return (
            small.shape == self._seen_small.shape
            and not (cv2.absdiff(small, self._seen_small) > THRESHOLD).any()
        )


def _shrunk(image: np.ndarray) -> np.ndarray:
    """An eighth the size each way, grey, blurred."""
    height, width = image.shape[:2]
    small = cv2.resize(
        image, (max(1, width // SHRINK), max(1, height // SHRINK)), interpolation=cv2.INTER_AREA
    )
    return cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0)
