"""Plate-first vehicles: a plate in view that no detected vehicle holds becomes a stand-in vehicle,
tracked and read like any other, but with no ground point (no speed, no crossing)."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import supervision as sv

from anpr.platefirst import PlateFirst
from anpr.process import VideoProcessor
from anpr.site import load_site
from anpr.tracks import PLATE_FIRST
from anpr.types import Candidate, PlateRead
from tests.anpr.test_process import _Clock, _Road


class Plates:
    """A fake plate detector: the boxes given, or one sliding down the frame with the clock."""

    def __init__(self, boxes=None, clock=None, conf=0.8):
        self.boxes, self.clock, self.conf, self.calls, self.crop_calls = boxes, clock, conf, 0, 0

    def detect(self, image) -> sv.Detections:
        self.calls += 1
        boxes = self._boxes()
        return sv.Detections(
            xyxy=boxes, confidence=np.full(len(boxes), self.conf), class_id=np.zeros(len(boxes))
        )

    def detect_many(self, crops, imgsz=None) -> list[sv.Detections]:
        """Each crop (a view into the frame) searched: the boxes whose centre lies in it, in its
        own pixels."""
        self.crop_calls += 1
        found = []
        for crop in crops:
            row, col = _offset(crop)
            boxes = self._boxes() - [col, row, col, row]
            cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
            inside = boxes[(cx >= 0) & (cx < crop.shape[1]) & (cy >= 0) & (cy < crop.shape[0])]
            found.append(
                sv.Detections(
                    xyxy=inside, confidence=np.full(len(inside), self.conf), class_id=np.zeros(len(inside))
                )
            )
        return found

    def _boxes(self) -> np.ndarray:
        boxes = self.boxes
        if boxes is None:
            y = 200 + 60 * self.clock.time_s
            boxes = [[280.0, y, 360.0, y + 20]]
        return np.asarray(boxes, float).reshape(-1, 4)


def _offset(view: np.ndarray) -> tuple[int, int]:
    """Where a view into a frame starts in it: (row, column)."""
    base = view.base if view.base is not None else view
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return start // base.strides[0], (start % base.strides[0]) // base.strides[1]


def vehicles(*boxes) -> sv.Detections:
    """Detections shaped as the real vehicle detector's: Ultralytics adds a class_name field."""
    xyxy = np.asarray(boxes, float).reshape(-1, 4)
    return sv.Detections(
        xyxy=xyxy,
        confidence=np.full(len(xyxy), 0.9),
        class_id=np.full(len(xyxy), 2),
        data={
            "vehicle_type": np.array(["car"] * len(xyxy), dtype=object),
            "class_name": np.array(["car"] * len(xyxy), dtype="<U3"),
        },
    )


def test_a_plate_outside_every_vehicle_becomes_a_stand_in_around_it():
    first = PlateFirst(Plates([[300, 300, 380, 320], [50, 60, 130, 80]]))
    found = first.add(vehicles([20, 20, 200, 200]), np.zeros((480, 640, 3), np.uint8), 0.0)
    assert list(found.data[PLATE_FIRST]) == [False, True]
    assert list(found.data["vehicle_type"]) == ["car", "unknown"]
    x1, y1, x2, y2 = found.xyxy[1]
    assert x1 < 300 and x2 > 380 and y1 < 300 and y2 > 320  # around the plate


def test_no_stand_in_for_a_plate_a_tracked_vehicle_holds_or_too_small_or_unsure():
    image = np.zeros((480, 640, 3), np.uint8)
    tracked = np.array([[250.0, 250.0, 450.0, 400.0]])
    assert (
        not PlateFirst(Plates([[300, 300, 380, 320]]))
        .add(vehicles(), image, 0.0, tracked)
        .data[PLATE_FIRST]
        .any()
    )
    assert not PlateFirst(Plates([[300, 300, 330, 310]])).add(vehicles(), image, 0.0).data[PLATE_FIRST].any()
    assert (
        not PlateFirst(Plates([[300, 300, 380, 320]], conf=0.1))
        .add(vehicles(), image, 0.0)
        .data[PLATE_FIRST]
        .any()
    )


def test_the_whole_frame_is_searched_only_when_a_look_is_due():
    """The whole frame every 0.5 s; in between, only inside stand-ins just added or followed
    (`follow`), at every call."""
    image = np.zeros((480, 640, 3), np.uint8)
    held = Plates([[60, 60, 140, 80]])  # inside the vehicle
    first = PlateFirst(held, every_s=0.5)
    looked = [
        bool(first.add(vehicles([20, 20, 200, 200]), image, t / 25).data[PLATE_FIRST].any())
        for t in range(30)
    ]
    assert held.calls == 3 and not any(looked)  # at 0, 0.52 and 1.04 s
    outside = Plates([[300, 300, 380, 320]])
    first = PlateFirst(outside, every_s=0.5)
    looked = [bool(first.add(vehicles(), image, t / 25).data[PLATE_FIRST].any()) for t in range(30)]
    assert outside.calls == 3 and outside.crop_calls == 27 and all(looked)  # then around the stand-in
    followed = Plates([[300, 300, 380, 320]])
    first = PlateFirst(followed, every_s=0.5)
    tracked = np.array([[250.0, 250.0, 450.0, 400.0]])  # a real vehicle's track holds the plate
    stand_in = np.array([[240.0, 180.0, 440.0, 360.0]])  # ... and a stand-in's track
    for t in range(30):
        first.add(vehicles(), image, t / 25, tracked, follow=stand_in if t < 10 else None)
    assert followed.calls == 3 and followed.crop_calls == 9  # inside the stand-in, while followed


class ReadsEverything:
    """A fake recognizer: the plate is the middle of the box, read as LEH5789."""

    def find_plates(self, image, subset, whole_frame=True, near=()):
        boxes = subset.xyxy
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        plates = np.stack([cx - 40, cy - 10, cx + 40, cy + 10], axis=1)
        return sv.Detections(xyxy=plates, data={"vehicle_index": np.arange(len(plates))})

    def read_crops(self, crops, region):
        read = PlateRead("LEH5789", 0.97, candidates=(Candidate("LEH5789", 0.97),), region="pk")
        return [read for _ in crops]


class NoVehicles:
    def detect(self, image):
        return vehicles()


def test_a_close_up_the_vehicle_detector_misses_is_one_event_with_its_plate(tmp_path: Path):
    (tmp_path / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\nspeed: {limit_kmh: 60}\n"
    )
    clock = _Clock()
    processor = VideoProcessor(
        load_site(tmp_path / "site.yaml"),
        recognizer=ReadsEverything(),
        detector=NoVehicles(),
        plate_first=PlateFirst(Plates(clock=clock), every_s=0.0),
    )
    (judged,) = [j for frame in processor.run(_Road(clock)) for j in frame.events]
    event = judged.event
    assert event.plate is not None and event.plate.text == "LEH5789"
    assert event.vehicle_type == "unknown" and event.speed_kmh is None and event.crossed_stop_line_at is None


def test_a_close_up_is_followed_between_the_twice_a_second_looks(tmp_path: Path):
    """At the default cadence (a whole-frame look every 0.5 s) a stand-in is looked for again at
    the next detection, and at every detection while its track is open: the tracker confirms a
    track at its second sighting, and the vehicle detector never sees a stand-in."""
    (tmp_path / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\nspeed: {limit_kmh: 60}\n"
    )
    clock, plates = _Clock(), None
    plates = Plates(clock=clock)
    processor = VideoProcessor(
        load_site(tmp_path / "site.yaml"),
        recognizer=ReadsEverything(),
        detector=NoVehicles(),
        plate_first=PlateFirst(plates, every_s=0.5),
    )
    (judged,) = [j for frame in processor.run(_Road(clock)) for j in frame.events]
    assert judged.event.plate is not None and judged.event.plate.text == "LEH5789"
    assert judged.event.last_seen - judged.event.first_seen > timedelta(seconds=2.5)  # followed to the end
    # the whole frame every 0.5 s, inside the stand-in's box at every other detection
    assert plates.calls <= 3 / 0.5 + 1 and plates.calls + plates.crop_calls == processor.stats["detections"]
    # one track all along: the plate found in both a new stand-in's box and its track's is one plate
    assert processor.stats.get("joined_by_plate", 0) == 0 and processor.stats["short_tracks"] == 0


class Fragments:
    """A fake vehicle detector: one car seen for a second, lost for a second (longer than the
    tracker keeps a lost track), then seen again 200 px to the side (where no track was heading)."""

    def __init__(self, clock):
        self.clock = clock

    def detect(self, image):
        t = self.clock.time_s
        if t < 1.0:
            return vehicles([150, 100 + 40 * t, 330, 220 + 40 * t])
        if t < 2.0:
            return vehicles()
        return vehicles([350, 200 + 40 * t, 530, 320 + 40 * t])


def test_a_vehicle_the_tracker_splits_in_two_is_one_event_when_its_plate_reads_the_same(tmp_path: Path):
    (tmp_path / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\nspeed: {limit_kmh: 60}\n"
    )
    clock = _Clock()
    processor = VideoProcessor(
        load_site(tmp_path / "site.yaml"),
        recognizer=ReadsEverything(),
        detector=Fragments(clock),
        plate_first=False,
    )
    road = _Road(clock)
    road.frame_count = 90  # 3.6 s: both fragments, the first closing while the second is open
    (judged,) = [j for frame in processor.run(road) for j in frame.events]
    assert judged.event.plate is not None and judged.event.plate.text == "LEH5789"
    assert processor.stats["joined_by_plate"] == 1
    assert judged.event.first_seen < processor.site.start_time + timedelta(seconds=1)  # the first fragment's


def test_a_settled_read_is_told_while_the_vehicle_is_still_in_view(tmp_path: Path):
    (tmp_path / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\nspeed: {limit_kmh: 60}\n"
    )
    clock, told = _Clock(), []
    processor = VideoProcessor(
        load_site(tmp_path / "site.yaml"),
        recognizer=ReadsEverything(),
        detector=Fragments(clock),
        plate_first=False,
        on_settled=lambda track, plate, time_s: told.append(
            (track.id, plate.text if plate else None, time_s)
        ),
    )
    road = _Road(clock)
    road.frame_count = 20  # 0.8 s: the car never leaves
    events = [j for frame in processor.run(road) for j in frame.events]
    assert len(events) == 1 and len(told) == 1
    track_id, text, time_s = told[0]
    assert text == "LEH5789" and time_s < 0.5  # the first sure read settles it, long before the end
