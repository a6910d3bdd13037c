"""The traffic signal: its phase timeline (from the controller's CSV, or read off the lamp seen in a
configured image region), and when a vehicle's ground point crosses the stop line."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from anpr.site import Phase


@dataclass(frozen=True)
class SignalAt:
    """The signal as a vehicle met it."""

    state: str | None  # red | amber | green | None (unknown)
    red_onset_s: float | None = None  # start of the red phase the time falls in
    amber_seconds: float | None = None  # length of the amber phase just before that red


class SignalTimeline:
    """Phases sorted by start time; each lasts until the next one starts."""

    def __init__(self, phases: Sequence[Phase] = ()):
        self.phases: list[Phase] = sorted(phases, key=lambda p: p.start_s)
        self._starts = [p.start_s for p in self.phases]  # looked up once a frame: kept, not rebuilt

    def add(self, start_s: float, state: str) -> None:
        """Append a phase observed live (start times arrive in order)."""
        if not self.phases or self.phases[-1].state != state:
            self.phases.append(Phase(start_s, state))
            self._starts.append(start_s)

    def index_at(self, time_s: float) -> int | None:
        i = bisect.bisect_right(self._starts, time_s) - 1
        return i if i >= 0 else None

    def state_at(self, time_s: float) -> str | None:
        i = self.index_at(time_s)
        return self.phases[i].state if i is not None else None

    def at(self, time_s: float) -> SignalAt:
        i = self.index_at(time_s)
        if i is None:
            return SignalAt(None)
        phase = self.phases[i]
        if phase.state != "red":
            return SignalAt(phase.state)
        amber = None
        if i > 0 and self.phases[i - 1].state == "amber":
            amber = phase.start_s - self.phases[i - 1].start_s
        return SignalAt("red", red_onset_s=phase.start_s, amber_seconds=amber)


class StopLine:
    """A segment in image pixels. The crossing is where the path of a vehicle's ground point (the
    bottom-centre of its box) passes over the segment, in either direction."""

    def __init__(self, p1: Sequence[float], p2: Sequence[float]):
        self.p1 = np.asarray(p1, dtype=float)
        self.p2 = np.asarray(p2, dtype=float)

    def side(self, point: Sequence[float]) -> float:
        """Signed: > 0 on one side, < 0 on the other (2D cross product)."""
        d = self.p2 - self.p1
        q = np.asarray(point, dtype=float) - self.p1
        return float(d[0] * q[1] - d[1] * q[0])

    def crossing(self, a: Sequence[float], b: Sequence[float]) -> float | None:
        """Fraction 0..1 along a->b where it crosses the segment, or None when it does not. A path
        that ends exactly on the line counts; one that starts on it does not (no double count)."""
        sa, sb = self.side(a), self.side(b)
        if sa == 0 or (sa > 0) == (sb > 0) and sb != 0:
            return None
        frac = sa / (sa - sb)
        point = np.asarray(a, float) + frac * (np.asarray(b, float) - np.asarray(a, float))
        d = self.p2 - self.p1
        along = float((point - self.p1) @ d / (d @ d))
        return frac if -1e-9 <= along <= 1 + 1e-9 else None


# --- reading the lamp when the controller gives no phases ---------------------------------------

# OpenCV hue is 0..179. Amber sits between red and green; lit lamps are bright and saturated.
_HUES = {"red": ((0, 8), (165, 179)), "amber": ((9, 35),), "green": ((40, 100),)}


def light_colour(region: np.ndarray, min_fraction: float = 0.02) -> str | None:
    """The lit lamp's colour in a crop of the signal head, None when no lamp is clearly lit."""
    if region.size == 0:
        return None
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    lit = (hsv[..., 1] >= 100) & (hsv[..., 2] >= 150)
    if lit.mean() < min_fraction:
        return None
    hue = hsv[..., 0][lit]
    counts = {
        name: sum(int(((hue >= lo) & (hue <= hi)).sum()) for lo, hi in ranges)
        for name, ranges in _HUES.items()
    }
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] >= 0.5 * len(hue) else None


class LightObserver:
    """Builds a timeline from lamp colours seen frame by frame; a change counts once it has held for
    `hold` frames, and its start is back-dated to the first of them."""

    def __init__(self, box: Sequence[int], hold: int = 2):
        self.box = tuple(int(v) for v in box)
        self.hold = hold
        self.timeline = SignalTimeline()
        self._pending: tuple[str, float, int] | None = None

    def observe(self, image: np.ndarray, time_s: float) -> str | None:
        x1, y1, x2, y2 = self.box
        colour = light_colour(image[y1:y2, x1:x2])
        current = self.timeline.phases[-1].state if self.timeline.phases else None
        if colour is None or colour == current:
            self._pending = None
        elif self._pending and self._pending[0] == colour:
            state, since, count = self._pending
            self._pending = (state, since, count + 1)
            if count + 1 >= self.hold:
                self.timeline.add(since, state)
                self._pending = None
        else:
            self._pending = (colour, time_s, 1)
            if self.hold <= 1:
                self.timeline.add(time_s, colour)
                self._pending = None
        return self.timeline.state_at(time_s)
