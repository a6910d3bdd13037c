"""Drawing on frames: tracked vehicles (box, track id, plate read, speed), the stop line in the
signal's colour, the calibrated area, and a data bar under evidence images. OpenCV and supervision
only (Ultralytics' plotter fetches fonts from the internet)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import supervision as sv

SIGNAL_BGR = {"red": (40, 40, 230), "amber": (0, 170, 255), "green": (60, 200, 60), None: (200, 200, 200)}
ALERT_BGR = (30, 30, 255)


# The annotated video is an overview for people (the evidence stills keep the camera's full
# resolution): frames taller than this are drawn and encoded at this height. H.264 takes about
# 13 ms a 1080p frame on 2 cores, about 4 at 540 lines; drawing on the smaller frame is cheaper too.
OVERLAY_HEIGHT = 540


class SceneAnnotator:
    def __init__(
        self,
        stop_line=None,
        calibration_quad=None,
        light_region=None,
        max_height: int | None = OVERLAY_HEIGHT,
    ) -> None:
        self.stop_line = np.asarray(stop_line, dtype=float) if stop_line is not None else None
        self.quad = np.asarray(calibration_quad, dtype=float) if calibration_quad is not None else None
        self.light_region = np.asarray(light_region, dtype=float) if light_region is not None else None
        self.max_height = max_height
        self._annotators: tuple | None = None  # sized to the first frame

    def _sized(self, height: int) -> tuple:
        if self._annotators is None:
            k = max(1.0, height / 720)
            boxes = sv.BoxAnnotator(thickness=round(2 * k), color_lookup=sv.ColorLookup.TRACK)
            labels = sv.LabelAnnotator(
                text_scale=0.5 * k,
                text_thickness=round(k),
                text_padding=round(4 * k),
                color_lookup=sv.ColorLookup.TRACK,
            )
            self._annotators = (boxes, labels)
        return self._annotators

    def annotate(
        self,
        image: np.ndarray,
        tracks: sv.Detections,
        labels: Sequence[str],
        signal: str | None,
        banner: str,
        alerts: Sequence[int] = (),
    ) -> np.ndarray:
        """A copy of the frame, at most max_height tall, with the scene drawn on it; `alerts` are
        track ids drawn in red."""
        k = min(1.0, self.max_height / image.shape[0]) if self.max_height else 1.0
        if k < 1.0:
            size = (round(image.shape[1] * k), round(image.shape[0] * k))
            out = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            tracks = _scaled(tracks, k)
        else:
            out = image.copy()
        scale = max(1, round(out.shape[0] / 540))
        if self.quad is not None:
            quad = np.round(self.quad * k).astype(np.int32)
            cv2.polylines(out, [quad.reshape(-1, 1, 2)], True, (200, 200, 90), 1, cv2.LINE_AA)
        if self.stop_line is not None:
            (ax, ay), (bx, by) = np.round(self.stop_line * k).astype(int)
            cv2.line(out, (ax, ay), (bx, by), SIGNAL_BGR[signal], 2 * scale, cv2.LINE_AA)
        if self.light_region is not None:
            x1, y1, x2, y2 = (int(v) for v in np.round(self.light_region * k))
            cv2.rectangle(out, (x1, y1), (x2, y2), SIGNAL_BGR[signal], scale)
        if len(tracks):
            boxes, names = self._sized(out.shape[0])
            out = boxes.annotate(out, tracks)
            out = names.annotate(out, tracks, labels=list(labels))
            assert tracks.tracker_id is not None  # tracks come from VehicleTracker, which sets ids
            for box, track_id in zip(tracks.xyxy.astype(int), tracks.tracker_id, strict=True):
                if int(track_id) in alerts:
                    cv2.rectangle(out, tuple(box[:2]), tuple(box[2:]), ALERT_BGR, 3 * scale)
        text = f"{banner}   signal: {signal.upper() if signal else 'unknown'}"
        _text_box(out, text, (8, 8), SIGNAL_BGR[signal], scale)
        return out


def _scaled(tracks: sv.Detections, k: float) -> sv.Detections:
    if not len(tracks):
        return tracks
    scaled = tracks[np.ones(len(tracks), dtype=np.bool_)]  # a copy
    assert isinstance(scaled, sv.Detections)  # a mask gives Detections
    scaled.xyxy = tracks.xyxy * k
    return scaled


def track_label(track_id: int, vehicle_type: str, plate: str | None, speed_kmh: float | None) -> str:
    parts = [f"#{track_id}", vehicle_type]
    if plate:
        parts.append(plate)
    if speed_kmh is not None:
        parts.append(f"{speed_kmh:.0f} km/h")
    return " ".join(parts)


def data_bar(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """The image with a black strip below it carrying the lines in white: the scene is not covered."""
    scale = max(0.5, image.shape[1] / 1600)
    thickness = max(1, round(scale * 1.6))
    line_h = int(34 * scale)
    bar = np.zeros((line_h * len(lines) + int(12 * scale), image.shape[1], 3), np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(
            bar,
            line,
            (int(10 * scale), int(line_h * (i + 1) - 6 * scale)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8 * scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
    return np.vstack([image, bar])


def highlight(image: np.ndarray, box, colour=ALERT_BGR) -> np.ndarray:
    out = image.copy()
    if box is not None:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        thickness = max(2, round(image.shape[0] / 360))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
    return out


def _text_box(image: np.ndarray, text: str, origin: tuple[int, int], colour, scale: int) -> None:
    font, size, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.55 * scale, max(1, scale)
    (w, h), base = cv2.getTextSize(text, font, size, thick)
    x, y = origin
    cv2.rectangle(image, (x, y), (x + w + 12, y + h + base + 10), (20, 20, 20), -1)
    cv2.rectangle(image, (x, y), (x + w + 12, y + h + base + 10), colour, thick)
    cv2.putText(image, text, (x + 6, y + h + 5), font, size, (255, 255, 255), thick, cv2.LINE_AA)
