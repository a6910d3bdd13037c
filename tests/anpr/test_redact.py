"""Public copies of evidence stills (anpr.redact). The geometry (the burned-in bar, the drawn vehicle
box, the blur) on hand-built pictures; the whole copy on a real still: a frame of
sample_videos/regal-chowk.mp4 with two cars and their plates, a real face (NASA's astronaut photo,
public domain, shipped in scikit-image's wheel) standing by the road, boxed and barred as
anpr.evidence wrote stills before 2026-12 ("suspected ... (pending officer review)")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage

from anpr.annotate import data_bar, highlight
from anpr.evidence import data_lines
from anpr.redact import (
    MAX_BYTES,
    PUBLIC_WIDTHS,
    Redactor,
    blur_boxes,
    burned_bar_rows,
    outlined_box,
    public_stills,
)
from anpr.types import VehicleEvent

PROJECT = Path(__file__).resolve().parents[2]
VIDEO = PROJECT / "sample_videos" / "regal-chowk.mp4"
FACE = Path(skimage.__file__).parent / "data" / "astronaut.png"
MOMENT = 64  # 6.4 s: car AWQ138 crosses the stop line on red, WBL255 beside it in the other lane
HEAD = (120, 0, 330, 260)  # the astronaut's head and shoulders in astronaut.png (x1, y1, x2, y2) ...
HER_FACE = (182, 64, 272, 184)  # ... and her face, brow to chin
HEAD_AT = (2000, 840, 2168, 1048)  # where the bystander stands, in the 2560x1440 frame
OLD_BAR = [
    "LHR-REGAL-01  Mall Road / Regal Chowk, Lahore  2026-11-20T08:00:06.400+05:00",
    "track 5  car  plate AWQ138",
    "speed 44.4 km/h / limit 60 km/h (calibrated-ground-plane)  stop line RED +0.85 s into red",
    "suspected: RED_LIGHT  (pending officer review)",
]
DECIDED = ["Mall Road / Regal Chowk, Lahore  20 Nov 2026 08:00:06 PKT", "Issued 21 Nov 2026 after review"]


@dataclass(frozen=True)
class Still:
    data: bytes  # JPEG, as anpr.evidence writes it
    vehicle_box: tuple[int, int, int, int]
    challaned_plate: tuple[int, int, int, int]
    bystander_plate: tuple[int, int, int, int]
    face: tuple[int, int, int, int]


@lru_cache(maxsize=1)
def recorded_still() -> Still:
    """The scene_at still of the red-light runner, as recorded before the wording changed."""
    from anpr.detect import PlateDetector, VehicleDetector

    capture = cv2.VideoCapture(str(VIDEO))
    capture.set(cv2.CAP_PROP_POS_FRAMES, MOMENT)
    ok, frame = capture.read()
    capture.release()
    assert ok, f"cannot read frame {MOMENT} of {VIDEO}"
    hx1, hy1, hx2, hy2 = HEAD
    x1, y1, x2, y2 = HEAD_AT
    head = cv2.imread(str(FACE))[hy1:hy2, hx1:hx2]
    frame[y1:y2, x1:x2] = cv2.resize(head, (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
    k = (x2 - x1) / (hx2 - hx1)
    face = (x1 + (HER_FACE[0] - hx1) * k, y1 + (HER_FACE[1] - hy1) * k)
    face += (x1 + (HER_FACE[2] - hx1) * k, y1 + (HER_FACE[3] - hy1) * k)
    # where the plates are, found at the frame's full size (the copy looks at half of it)
    plates = sorted(_boxes(PlateDetector(conf=0.25).detect_many([frame], imgsz=2560)[0].xyxy))
    assert len(plates) == 2, plates
    challaned, bystander = plates  # left to right: AWQ138 is the left car
    centre = ((challaned[0] + challaned[2]) / 2, (challaned[1] + challaned[3]) / 2)
    [vehicle] = [b for b in _boxes(VehicleDetector().detect(frame).xyxy) if _inside(centre, b)]
    picture = data_bar(highlight(frame, vehicle), OLD_BAR)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return Still(encoded.tobytes(), vehicle, challaned, bystander, _boxes([face])[0])


def _boxes(xyxy) -> list[tuple[int, int, int, int]]:
    return [tuple(int(round(float(v))) for v in box) for box in xyxy]  # type: ignore[misc]


def _inside(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def spread(image: np.ndarray, box, k: float = 1.0, inset: float = 0.15) -> float:
    """Standard deviation of the grey values inside `box` (scaled by k, shrunk by `inset` a side)."""
    x1, y1, x2, y2 = (v * k for v in box)
    dx, dy = (x2 - x1) * inset, (y2 - y1) * inset
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(grey[int(y1 + dy) : int(y2 - dy), int(x1 + dx) : int(x2 - dx)].std())


def sharpness(image: np.ndarray, box, k: float = 1.0) -> float:
    """Variance of the Laplacian inside `box`: high where there are edges (characters, eyes)."""
    x1, y1, x2, y2 = (int(v * k) for v in box)
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


# --- the geometry, on hand-built pictures -------------------------------------------------------------


def textured(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A busy, coloured, bright picture (no scene row looks like a data bar)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(60, 230, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def as_jpeg(image: np.ndarray) -> np.ndarray:
    return decode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes())


@pytest.mark.parametrize("width, height", [(640, 360), (1920, 1080), (2560, 1440), (360, 120)])
@pytest.mark.parametrize("lines", [1, 3, 4])
def test_the_burned_in_bar_is_found_to_the_row(width, height, lines):
    scene = textured(width, height)
    barred = as_jpeg(data_bar(scene, OLD_BAR[-lines:]))
    assert burned_bar_rows(barred) == barred.shape[0] - height
    assert burned_bar_rows(as_jpeg(scene)) == 0


def test_a_dark_scene_loses_rows_of_road_rather_than_keeping_a_line_of_the_bar():
    scene = textured(1280, 720)
    scene[-200:] = 12  # a night road at the foot of the picture
    barred = as_jpeg(data_bar(scene, OLD_BAR))
    assert burned_bar_rows(barred) >= barred.shape[0] - 720


def test_the_drawn_vehicle_box_is_found_and_a_red_lamp_is_not_one():
    scene = textured(1920, 1080)
    cv2.circle(scene, (1500, 200), 30, (30, 30, 255), -1)  # a red signal lamp
    assert outlined_box(as_jpeg(scene)) is None
    found = outlined_box(as_jpeg(highlight(scene, (700, 400, 1100, 760))))
    assert (
        found is not None and np.abs(np.subtract(found, (700, 400, 1100, 760))).max() <= 6
    )  # the line's outer edge


def test_a_blurred_box_keeps_nothing_readable():
    picture = textured(400, 200)
    cv2.putText(picture, "LEH 5789", (110, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    before = spread(picture, (100, 80, 300, 125), inset=0)
    done = blur_boxes(picture, [(100, 80, 300, 125)], pad=0.25)
    assert done == [(50, 68, 350, 137)]  # grown by a quarter of the box each side
    assert before > 40 and spread(picture, (100, 80, 300, 125), inset=0) < 8


def test_the_camera_bar_of_a_new_still_says_what_was_found_not_that_it_is_pending():
    event = VehicleEvent(
        site_id="LHR-REGAL-01", track_id=5, vehicle_type="car", first_seen=_t(), last_seen=_t()
    )
    lines = data_lines(event, "Mall Road / Regal Chowk, Lahore", 60, ["RED_LIGHT"], _t())
    assert lines[-1] == "camera finding: RED_LIGHT"
    assert not any("pending" in line or "suspected" in line for line in lines)


def _t():
    from datetime import datetime, timedelta, timezone

    return datetime(2026, 11, 20, 8, 0, 6, tzinfo=timezone(timedelta(hours=5)))


# --- the whole copy, on a real still with real models ---------------------------------------------------


@pytest.fixture(scope="module")
def copies():
    still = recorded_still()
    stills, done = public_stills(still.data, DECIDED, Redactor())
    return still, stills, done


@pytest.mark.slow
def test_bystanders_plate_and_face_are_blurred_and_the_challaned_plate_is_not(copies):
    still, stills, done = copies
    original = decode(still.data)
    assert done.vehicle_box is not None
    assert np.abs(np.subtract(done.vehicle_box, still.vehicle_box)).max() <= 6  # found from the drawing
    large = decode(stills[-1].data)
    k = large.shape[1] / original.shape[1]
    for box in (still.bystander_plate, still.face):
        assert spread(original, box) > 25 and sharpness(original, box) > 300, box  # a plate, a face
        assert spread(large, box, k) < 12 and sharpness(large, box, k) < 30, box  # a smooth blur
    assert spread(large, still.challaned_plate, k) > 25  # the challaned car's plate stays readable
    assert sharpness(large, still.challaned_plate, k) > 300
    assert len(done.plates_blurred) == 1 and len(done.faces_blurred) == 1


@pytest.mark.slow
def test_each_copy_is_a_small_webp_at_its_width(copies):
    still, stills, _ = copies
    assert [decode(s.data).shape[1] for s in stills] == list(PUBLIC_WIDTHS)
    assert all(s.data[8:12] == b"WEBP" and len(s.data) < MAX_BYTES for s in stills)
    assert len(still.data) > 2 * MAX_BYTES  # the original is 2560 px wide and weighs over 400 KB


@pytest.mark.slow
def test_the_capture_bar_is_replaced_by_the_decision(copies):
    from anpr.ocr.rapid import RapidOcrReader

    still, stills, done = copies
    original, large = decode(still.data), decode(stills[-1].data)
    engine = RapidOcrReader().engine

    def text(image: np.ndarray, rows: int) -> str:
        result, _ = engine(image[-rows:])
        return "".join(item[1] for item in result or []).lower().replace(" ", "")  # spaces vary

    assert "pendingofficerreview" in text(original, done.bar_rows)  # what the camera wrote
    bar = data_bar(np.zeros((1, large.shape[1], 3), np.uint8), DECIDED).shape[0] - 1
    below_scene = text(large, bar + 120)  # the new bar and the foot of the scene above it
    assert "pending" not in below_scene and "suspected" not in below_scene
    assert "issued21nov2026" in below_scene
