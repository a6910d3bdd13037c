"""Tracking with hand-built boxes: ByteTrack keeps ids, fragments are merged, colours are named."""

import numpy as np
import pytest
import supervision as sv

from anpr.track import FragmentMerger, VehicleTracker, iou, vehicle_colour


def detections(*boxes, conf=0.9):
    return sv.Detections(
        xyxy=np.array(boxes, float).reshape(-1, 4),
        confidence=np.full(len(boxes), conf),
        class_id=np.full(len(boxes), 2),
        data={"vehicle_type": np.array(["car"] * len(boxes))},
    )


def test_two_vehicles_keep_their_ids_and_raw_boxes():
    tracker = VehicleTracker(fps=10)
    ids = []
    for i in range(10):
        a, b = (100 + 10 * i, 100, 200 + 10 * i, 180), (500, 300 - 8 * i, 620, 400 - 8 * i)
        out = tracker.update_with_detections(detections(a, b))
        if i == 0:  # a track is confirmed at its second sighting
            assert len(out) == 0
            continue
        assert np.allclose(out.xyxy, [a, b])  # the detector's boxes, not the Kalman filter's
        assert list(out.data["vehicle_type"]) == ["car", "car"]
        ids.append(tuple(out.tracker_id))
    assert len(set(ids)) == 1 and len(set(ids[0])) == 2


def test_an_empty_frame_returns_nothing_and_the_track_survives_it():
    tracker = VehicleTracker(fps=10)
    tracker.update_with_detections(detections((98, 100, 198, 180)))
    first = tracker.update_with_detections(detections((100, 100, 200, 180))).tracker_id[0]
    assert len(tracker.update_with_detections(detections())) == 0
    assert tracker.update_with_detections(detections((104, 100, 204, 180))).tracker_id[0] == first


def test_a_vehicle_missed_longer_than_bytetracks_buffer_keeps_its_id():
    tracker = VehicleTracker(fps=10, lost_buffer_s=0.2, merge_gap_s=1.5)
    seen = []
    for i in range(30):
        if 10 <= i < 16:  # missed for 0.6 s: ByteTrack drops it and starts a new id after
            tracker.update_with_detections(detections())
            continue
        out = tracker.update_with_detections(detections((100 + 12 * i, 100, 220 + 12 * i, 190)))
        seen += out.tracker_id.tolist()
    assert any(raw != stable for raw, stable in tracker.merger.alias.items())  # ByteTrack did split it
    assert len(seen) >= 22 and set(seen) == {seen[0]}


def test_a_gap_is_measured_in_seconds_whatever_the_detection_schedule():
    """Video detects every frame while a vehicle appears and every 4th frame otherwise (the tracker
    is built for the 4th-frame rate). A car missed for 1.2 s while detections run every frame
    (30 updates) is still within the 2 s merge window: it keeps its id. Counted in updates, the
    window was 12 of them, half a second at this rate, and the car became a second vehicle."""
    fps = 25.0
    tracker = VehicleTracker(fps=fps / 4, lost_buffer_s=1.0, merge_gap_s=2.0)
    seen = []
    for i in range(100):
        t = i / fps
        if 30 <= i < 60:  # missed for 1.2 s; ByteTrack gives up after 1 s
            tracker.update_with_detections(detections(), t)
            continue
        x = 100 + 150 * t  # 150 px/s
        out = tracker.update_with_detections(detections((x, 300, x + 120, 390)), t)
        seen += out.tracker_id.tolist()
    assert any(raw != stable for raw, stable in tracker.merger.alias.items())  # ByteTrack did split it
    assert len(seen) >= 65 and set(seen) == {seen[0]}


def test_a_car_arriving_after_the_merge_window_is_a_new_vehicle():
    tracker = VehicleTracker(fps=25 / 4, lost_buffer_s=1.0, merge_gap_s=2.0)
    ids = []
    for i in range(120):
        t = i / 25
        if 20 <= i < 80:  # gone for 2.4 s: whatever appears where it was heading is another vehicle
            tracker.update_with_detections(detections(), t)
            continue
        x = 100 + 50 * t
        ids += tracker.update_with_detections(detections((x, 300, x + 120, 390)), t).tracker_id.tolist()
    assert len(set(ids)) == 2


# FragmentMerger alone: (raw ids, boxes) per update, at times in seconds -> stable ids
@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        # continuation where the old track was heading (moving +10 px/s, a gap of 3 s)
        (
            [(0, [1], [(0, 0, 100, 50)]), (1, [1], [(10, 0, 110, 50)]), (4, [2], [(40, 0, 140, 50)])],
            [1, 1, 1],
        ),
        # a new vehicle far from where the lost one was heading keeps its own id
        (
            [(0, [1], [(0, 0, 100, 50)]), (1, [1], [(10, 0, 110, 50)]), (4, [2], [(400, 300, 500, 350)])],
            [1, 1, 2],
        ),
        # too long a gap (limit 5 s): a new vehicle
        (
            [(0, [1], [(0, 0, 100, 50)]), (1, [1], [(10, 0, 110, 50)]), (9, [2], [(90, 0, 190, 50)])],
            [1, 1, 2],
        ),
        # the old track is still visible in the same frame: never merged into
        ([(0, [1], [(0, 0, 100, 50)]), (1, [1, 2], [(10, 0, 110, 50), (15, 0, 115, 50)])], [1, 1, 2]),
    ],
)
def test_fragment_merging(frames, expected):
    merger = FragmentMerger(max_gap_s=5)
    got = []
    for time_s, raw, boxes in frames:
        got += merger.assign(np.array(raw), np.array(boxes, float), time_s).tolist()
    assert got == expected


def test_a_forgotten_track_is_not_continued():
    merger = FragmentMerger(max_gap_s=5)
    merger.assign(np.array([1]), np.array([[0, 0, 100, 50]], float), 0)
    merger.forget(1)
    assert merger.assign(np.array([2]), np.array([[0, 0, 100, 50]], float), 2).tolist() == [2]


def test_iou():
    assert iou(np.array([0, 0, 10, 10]), np.array([0, 0, 10, 10])) == 1.0
    assert iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(50 / 150)
    assert iou(np.array([0, 0, 10, 10]), np.array([20, 20, 30, 30])) == 0.0


@pytest.mark.parametrize(
    ("bgr", "name"),
    [
        ((40, 40, 190), "red"),
        ((170, 80, 30), "blue"),
        ((40, 160, 40), "green"),
        ((30, 200, 230), "yellow"),
        ((235, 235, 235), "white"),
        ((150, 150, 150), "silver"),
        ((90, 90, 90), "grey"),
        ((25, 25, 25), "black"),
    ],
)
def test_vehicle_colour(bgr, name):
    crop = np.zeros((100, 160, 3), np.uint8)
    crop[40:85, 25:135] = bgr  # the body; the rest (windows, road) is black
    assert vehicle_colour(crop) == name
    assert vehicle_colour(np.zeros((0, 0, 3), np.uint8)) is None


def test_a_fast_vehicle_detected_at_varying_intervals_keeps_its_id():
    """Video is detected on every frame while a track is young, then every 4th frame: the tracker is
    told each frame's time and predicts the box over the real interval. A box 100 px high moving
    30 px a frame has moved past itself 4 frames later (IoU 0 with where it was)."""
    tracker = VehicleTracker(fps=6.25)
    ids = []
    for frame in (0, 1, 2, 3, 7, 11, 15, 19):
        x = 100 + 30 * frame
        out = tracker.update_with_detections(detections((x, 300, x + 100, 400)), time_s=frame / 25)
        ids += out.tracker_id.tolist()
    assert len(ids) == 7 and set(ids) == {ids[0]}
