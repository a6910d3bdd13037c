"""Speed on a calibrated ground plane: a perspective transform from four image points to metres,
applied to the bottom-centre of each vehicle box (where the vehicle meets the road), fitted over a
sliding window of about a second. Boxes cut by the frame edge do not show the ground point and are
left out. A single metres-per-pixel scale is not used: it is wrong everywhere but one row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

GROUND_PLANE = "calibrated-ground-plane"
RADAR = "radar"
STOPPED_KMH = 3.0  # below this a vehicle counts as standing still (detector jitter is about 1 km/h)


class GroundPlane:
    """Image pixels <-> road metres for points on the road surface."""

    def __init__(self, image_points: Sequence[Sequence[float]], world_points: Sequence[Sequence[float]]):
        self.image_points = np.asarray(image_points, dtype=np.float32).reshape(4, 2)
        self.world_points = np.asarray(world_points, dtype=np.float32).reshape(4, 2)
        self.to_world_matrix = cv2.getPerspectiveTransform(self.image_points, self.world_points)
        self.to_image_matrix = cv2.getPerspectiveTransform(self.world_points, self.image_points)

    def to_world(self, points: np.ndarray) -> np.ndarray:
        return _apply(self.to_world_matrix, points)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return _apply(self.to_image_matrix, points)

    def inside(self, world: np.ndarray, margin_m: float = 0.0) -> np.ndarray:
        """Mask of world points within the calibrated area's bounding box grown by margin_m."""
        low = self.world_points.min(axis=0) - margin_m
        high = self.world_points.max(axis=0) + margin_m
        world = np.asarray(world, dtype=float).reshape(-1, 2)
        return np.all((world >= low) & (world <= high), axis=1)

    def horizon_safe(self, points: np.ndarray) -> np.ndarray:
        """Mask of image points below the horizon (the transform's denominator stays positive)."""
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        m = self.to_world_matrix
        w = m[2, 0] * pts[:, 0] + m[2, 1] * pts[:, 1] + m[2, 2]
        w_ref = float(m[2] @ np.array([*self.image_points.mean(axis=0), 1.0]))
        return w * w_ref > 0


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    if not len(pts):
        return np.zeros((0, 2))
    return cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)


def bottom_centres(xyxy: np.ndarray) -> np.ndarray:
    xyxy = np.asarray(xyxy, dtype=float).reshape(-1, 4)
    return np.stack([(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]], axis=1)


def ground_clipped(xyxy: np.ndarray, frame_size: tuple[int, int], margin: float = 0.015) -> np.ndarray:
    """Mask of boxes whose bottom-centre is not where the vehicle meets the road: cut by the left,
    right or bottom edge of the frame (within `margin` of the frame's size, at least 3 px; detectors
    often stop a few pixels short of the edge). A box cut only at the top, a tall vehicle close to the
    camera, keeps its bottom edge and both sides: its ground point is exact, for speed and the stop line."""
    width, height = frame_size
    mx, my = max(3.0, margin * width), max(3.0, margin * height)
    xyxy = np.asarray(xyxy, dtype=float).reshape(-1, 4)
    return (xyxy[:, 0] <= mx) | (xyxy[:, 2] >= width - 1 - mx) | (xyxy[:, 3] >= height - 1 - my)


@dataclass(frozen=True)
class WindowSpeed:
    time_s: float  # middle of the window
    kmh: float
    velocity: tuple[float, float]  # metres per second, world axes
    position: tuple[float, float]  # fitted world position at time_s


def window_speeds(
    times: Sequence[float] | np.ndarray, world: np.ndarray, window_s: float = 1.0, min_span_s: float = 0.5
) -> list[WindowSpeed]:
    """Least-squares velocity over every run of samples spanning window_s (at least 3 samples); a
    straight-line fit over a second averages out the detector's box jitter. A track seen for less
    than a window but at least min_span_s gets one fit over all of it."""
    t = np.asarray(times, dtype=float)
    xy = np.asarray(world, dtype=float).reshape(-1, 2)
    out = []
    end = 0
    for start in range(len(t)):
        while end < len(t) and t[end] - t[start] < window_s - 1e-9:
            end += 1
        if end >= len(t):
            break
        if end + 1 - start >= 3:
            out.append(_fit(t[start : end + 1], xy[start : end + 1]))
    if not out and len(t) >= 3 and t[-1] - t[0] >= min_span_s - 1e-9:
        out.append(_fit(t, xy))
    return out


def _fit(ts: np.ndarray, xy: np.ndarray) -> WindowSpeed:
    centre = ts.mean()
    design = np.stack([ts - centre, np.ones_like(ts)], axis=1)
    coef, *_ = np.linalg.lstsq(design, xy, rcond=None)
    (vx, vy), (px, py) = coef[0], coef[1]
    return WindowSpeed(
        float(centre), float(np.hypot(vx, vy) * 3.6), (float(vx), float(vy)), (float(px), float(py))
    )


def track_speed(windows: Sequence[WindowSpeed]) -> float | None:
    """The median window speed over the moving part of the track: robust to a few bad boxes, and a
    vehicle waiting at the line does not drag its speed down."""
    if not windows:
        return None
    moving = [w.kmh for w in windows if w.kmh >= STOPPED_KMH] or [w.kmh for w in windows]
    return float(np.median(moving))


def mean_velocity(windows: Sequence[WindowSpeed]) -> tuple[float, float] | None:
    moving = [w.velocity for w in windows if w.kmh >= STOPPED_KMH]
    if not moving:
        return None
    vx, vy = np.mean(np.asarray(moving), axis=0)
    return float(vx), float(vy)


def direction(velocity: tuple[float, float] | None, flow: tuple[float, float] | None) -> str | None:
    """'with' or 'against' the site's lawful direction of travel, None when either is unknown."""
    if velocity is None or flow is None:
        return None
    dot = velocity[0] * flow[0] + velocity[1] * flow[1]
    return "with" if dot >= 0 else "against"


def lane_of(x_m: float, boundaries: Sequence[float] | None) -> int | None:
    """1-based lane number for a world x between consecutive boundaries, None outside or unknown."""
    if not boundaries:
        return None
    for lane, (low, high) in enumerate(zip(boundaries, boundaries[1:], strict=False), start=1):
        if low <= x_m < high:
            return lane
    return None


@dataclass(frozen=True)
class GroundPath:
    """Where a track was on the road: sample times (s) and world positions (m)."""

    track_id: int
    times: np.ndarray
    world: np.ndarray

    def position_at(self, time_s: float, slack_s: float = 0.25) -> tuple[float, float] | None:
        if not len(self.times) or not (self.times[0] - slack_s <= time_s <= self.times[-1] + slack_s):
            return None
        x = np.interp(time_s, self.times, self.world[:, 0])
        y = np.interp(time_s, self.times, self.world[:, 1])
        return float(x), float(y)


class RadarMatcher:
    """Gives each radar reading to at most one track: among the tracks on the road at the reading's
    time (in its lane when the radar reports lanes), the one nearest the radar's measuring line, or
    without a line the one whose ground-plane speed is nearest the reading."""

    def __init__(self, readings, lanes: Sequence[float] | None = None, radar_line: float | None = None):
        self.readings = list(readings)
        self.lanes, self.radar_line = lanes, radar_line

    def claim(
        self, path: GroundPath, speed_kmh: float | None, others: Sequence[tuple[GroundPath, float | None]]
    ):
        """The reading this track gets (removed from the pool), or None."""
        best = None
        for reading in self.readings:
            mine = self._score(path, speed_kmh, reading)
            if mine is None:
                continue
            rivals = [self._score(p, s, reading) for p, s in others if p.track_id != path.track_id]
            if any(r is not None and r < mine for r in rivals):
                continue
            if best is None or mine < best[0]:
                best = (mine, reading)
        if best is None:
            return None
        self.readings.remove(best[1])
        return best[1]

    def _score(self, path: GroundPath, speed_kmh: float | None, reading) -> float | None:
        where = path.position_at(reading.time_s)
        if where is None:
            return None
        if reading.lane is not None and self.lanes and lane_of(where[0], self.lanes) != reading.lane:
            return None
        if self.radar_line is not None:
            return abs(where[1] - self.radar_line)
        return abs(speed_kmh - reading.speed_kmh) if speed_kmh is not None else 1e6
