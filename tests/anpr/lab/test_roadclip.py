"""The real-time bench's road clip: cars where the site calibration says, at the times the truth says,
and the matching of the pipeline's events to the truth cars."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from anpr.lab.roadclip import (
    CAMERA,
    MIN_GAP_M,
    CarSprite,
    ClosedTrack,
    TruthCar,
    draw_road_clip,
    plan_cars,
    score,
)
from anpr.speed import GroundPath
from anpr.types import Candidate, PlateRead, VehicleEvent

MAGENTA, YELLOW = (255, 0, 255), (0, 255, 255)  # BGR: colours the drawn road has nowhere


def sprite(colour, plate: str, close_up: bool = False, shape=(90, 160)) -> CarSprite:
    return CarSprite(np.full((*shape, 3), colour, np.uint8), plate, f"test/{plate}.jpg", close_up)


def colour_box(image: np.ndarray, colour) -> tuple[int, int, int, int] | None:
    """The box (x1, y1, x2, y2, pixel edges) of the pixels near `colour` (H.264 blurs the edges)."""
    import cv2

    low, high = np.clip(np.array(colour) - 70, 0, 255), np.clip(np.array(colour) + 70, 0, 255)
    near = cv2.inRange(image, low, high) > 0
    rows, cols = np.flatnonzero(near.sum(1) >= 3), np.flatnonzero(near.sum(0) >= 3)
    if not len(rows):
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def test_cars_stand_where_the_site_calibration_says_at_the_truth_times(tmp_path):
    """A 1080p 25 fps clip; each car's bottom-centre, found by its colour in the decoded frames and
    mapped through the site file's GroundPlane, is its truth position at that frame's time (a frame
    late would be 0.8 m off at 72 km/h); before its entry it is not drawn."""
    from anpr.site import load_site
    from anpr.speed import GroundPlane
    from anpr.video import open_source

    plain = TruthCar("AAA111", 72.0, 1, 0.0, 2.3, False, "test/AAA111.jpg")
    close = TruthCar("BBB222", 54.0, 2, 0.4, 2.6, True, "test/BBB222.jpg")
    made = draw_road_clip(
        [(plain, sprite(MAGENTA, "AAA111")), (close, sprite(YELLOW, "BBB222", close_up=True))], tmp_path
    )
    source = open_source(made.clip)
    assert (source.fps, source.size) == (25.0, (1920, 1080))
    assert made.frames == 66 and made.seconds == pytest.approx(2.64)  # frame 65 at 2.6 s: the last exit
    calibration = load_site(made.site).config.calibration
    ground = GroundPlane(calibration.image, calibration.world)
    checked = {"AAA111": 0, "BBB222": 0}
    frames = 0
    for frame in source:
        frames += 1
        for car, colour in ((plain, MAGENTA), (close, YELLOW)):
            box = colour_box(frame.image, colour)
            if frame.time_s < car.entry_s - 1e-9:
                assert box is None, f"{car.plate} drawn at {frame.time_s} s, before its entry"
                continue
            truth = car.position_at(frame.time_s)
            if box is None or truth is None or not 0 <= truth[1] <= 30 or box[3] >= CAMERA.height - 1:
                continue
            x, y = ground.to_world(np.array([[(box[0] + box[2]) / 2, box[3]]]))[0]
            assert abs(x - truth[0]) < 0.15 and abs(y - truth[1]) < 0.4, (car.plate, frame.index, x, y, truth)
            checked[car.plate] += 1
    assert frames == made.frames
    assert checked["AAA111"] >= 25 and checked["BBB222"] >= 25  # every frame on the calibrated road


def test_the_plan_puts_two_side_by_side_one_behind_another_and_keeps_the_gap():
    sprites = [sprite(MAGENTA, f"P{i}", close_up=i < 3) for i in range(12)]
    planned = plan_cars(sprites, np.random.default_rng(7))
    cars = [car for car, _ in planned]
    assert [c.plate for c, s in planned] == [s.plate for _, s in planned]
    assert sorted(c.plate for c in cars) == sorted(s.plate for s in sprites)
    assert [c.entry_s for c in cars] == sorted(c.entry_s for c in cars)
    assert sum(c.close_up for c in cars) == 3
    assert all(30 <= c.kmh <= 80 for c in cars) and len({c.kmh for c in cars}) > 3
    beside = [(a, b) for a, b in zip(cars, cars[1:], strict=False) if a.entry_s == b.entry_s]
    assert len(beside) == 1 and {beside[0][0].lane, beside[0][1].lane} == {1, 2}
    assert not (beside[0][0].close_up or beside[0][1].close_up)
    assert any(a.lane == b.lane for a, b in zip(cars, cars[1:], strict=False))
    for lane in (1, 2):
        mine = [c for c in cars if c.lane == lane]
        for ahead, behind in zip(mine, mine[1:], strict=False):
            for t in np.arange(behind.entry_s, min(ahead.exit_s, behind.exit_s), 0.04):
                assert behind.y_at(t) - ahead.y_at(t) >= MIN_GAP_M - 1e-6
    again = [car for car, _ in plan_cars(sprites, np.random.default_rng(7))]
    assert again == cars
    assert [car for car, _ in plan_cars(sprites, np.random.default_rng(8))] != cars


START = datetime.fromisoformat("2026-11-20T08:00:00+05:00")


def closed_track(
    track: int, times, x: float, ys, plate: str = "", candidates=(), speed: float | None = None
) -> ClosedTrack:
    times = np.asarray(times, float)
    read = PlateRead(plate, 0.9, tuple(Candidate(c, 0.1) for c in (plate, *candidates))) if plate else None
    event = VehicleEvent(
        "BENCH-ROAD",
        track,
        "car",
        START + timedelta(seconds=float(times[0])),
        START + timedelta(seconds=float(times[-1])),
        plate=read,
        speed_kmh=speed,
    )
    ys = np.asarray(ys, float)
    path = (
        GroundPath(track, times, np.column_stack([np.full(len(times), x), ys]))
        if len(ys)
        else GroundPath(track, np.zeros(0), np.zeros((0, 2)))  # no box ever stood on the road
    )
    return ClosedTrack(event, path, (float(times[0]), float(times[-1])))


def test_events_are_matched_to_cars_by_lane_and_place_or_by_plate():
    """Two cars side by side at one speed (only the lane tells them apart), one behind in lane 1,
    a close-up no track found on the road, and one car never seen."""
    left = TruthCar("LEFT1", 54.0, 1, 0.0, 3.0, False, "a")
    right = TruthCar("RIGHT2", 54.0, 2, 0.0, 3.0, False, "b")
    behind = TruthCar("BEHIND3", 36.0, 1, 2.0, 7.0, False, "c")
    close = TruthCar("CLOSE4", 60.0, 2, 4.0, 6.5, True, "d")
    unseen = TruthCar("NONE5", 80.0, 2, 7.0, 9.0, False, "e")
    cars = [left, right, behind, close, unseen]
    t = np.arange(0.4, 2.6, 0.04)
    closed = [
        closed_track(1, t, 1.8, right.y_at(t) + 0.5, "RIGHT2", speed=56.7),  # lane 1: the left car
        closed_track(2, t, 5.1, left.y_at(t) - 0.5, "R1GHT2", speed=52.0),  # lane 2: the right car
        closed_track(3, t[:20], 5.3, right.y_at(t[:20])),  # the right car's track split in two
        closed_track(4, t + 3.0, 1.6, behind.y_at(t + 3.0) + 2.0, "BEHIND3", speed=36.0),
        closed_track(5, t + 3.0, 1.6, behind.y_at(t + 3.0) + 9.0),  # no car this far from the one in lane 1
        closed_track(6, [4.5, 5.5], 0.0, [], "CL0SE4", candidates=("CLOSE4",)),  # no ground path: the plate
        closed_track(7, [0.5, 1.5], 0.0, [], "CLOSE4"),  # its plate, but before the close-up came
    ]
    result = score(cars, closed)
    rows = {v.car.plate: v for v in result.vehicles}
    assert [rows[p].events for p in ("LEFT1", "RIGHT2", "BEHIND3", "CLOSE4", "NONE5")] == [1, 2, 1, 1, 0]
    assert rows["LEFT1"].read == "RIGHT2" and not rows["LEFT1"].read_ok
    assert rows["RIGHT2"].read == "R1GHT2" and rows["RIGHT2"].speed_error_pct == pytest.approx(-100 * 2 / 54)
    assert rows["LEFT1"].speed_error_pct == pytest.approx(5.0)
    assert rows["BEHIND3"].read_ok and rows["BEHIND3"].speed_error_pct == 0.0
    assert rows["CLOSE4"].read == "CL0SE4" and rows["CLOSE4"].speed_kmh is None
    assert result.missed == (unseen,)
    assert result.unmatched == 2 and result.extra == 3  # tracks 5 and 7, and the split
    assert result.exact_reads == 1
    assert sorted(result.errors) == pytest.approx([0.0, 100 * 2 / 54, 5.0])
    assert result.to_json()["speed_error_max_pct"] == 5.0


@pytest.mark.slow
def test_the_clip_from_validation_photos_has_what_the_bench_needs(datasets, tmp_path):
    """Ten distinct validation plates: two close-ups, two side by side, the rest cut out whole."""
    from anpr.lab.datasets import openalpr_photos
    from anpr.lab.roadclip import road_clip

    made = road_clip(10, 0, tmp_path)
    val = {p.printed for p in openalpr_photos(datasets) if p.split == "val"}
    assert len(made.cars) == 10 and len({c.plate for c in made.cars}) == 10
    assert {c.plate for c in made.cars} <= val
    assert sum(c.close_up for c in made.cars) == 2
    assert 8 < made.seconds < 25
    assert "2 side by side" in made.describe()


def test_the_bench_keeps_where_each_closed_track_stood_on_the_road(tmp_path):
    """The ground path the events are matched by: each box's bottom-centre on the road, through the
    site file's calibration, the boxes cut by the frame's edge left out."""
    from types import SimpleNamespace

    from anpr.lab.video_bench import PathKeepingProcessor, write_site
    from anpr.site import load_site

    write_site(tmp_path / "road.yaml", CAMERA, "TEST")
    processor = PathKeepingProcessor(load_site(tmp_path / "road.yaml"))
    truth = [(1.75, 20.0), (1.75, 10.0), (5.25, 2.0)]
    feet = CAMERA.ground_to_image(truth)
    boxes = [np.array([x - 50, y - 80, x + 50, y]) for x, y in feet]
    track = SimpleNamespace(id=4, times=[0.0, 0.5, 1.0], boxes=boxes, clipped=[False, True, False])
    path = processor.road_path(track)
    assert path.track_id == 4 and list(path.times) == [0.0, 1.0]
    assert path.world == pytest.approx(np.array([truth[0], truth[2]]), abs=0.02)


class _ByColour:
    """A vehicle detector that sees the magenta car (and breaks on call `breaks_at`, if given)."""

    def __init__(self, breaks_at: int | None = None):
        self.calls, self.breaks_at = 0, breaks_at

    def detect(self, image):
        import supervision as sv

        self.calls += 1
        if self.calls == self.breaks_at:
            raise RuntimeError("boom")
        box = colour_box(image, MAGENTA)
        if box is None:
            return sv.Detections.empty()
        return sv.Detections(
            xyxy=np.array([box], float),
            confidence=np.array([0.9]),
            class_id=np.array([2]),
            data={"vehicle_type": np.array(["car"], dtype=object), "class_name": np.array(["car"])},
        )


class _NoPlates:
    def find_plates(self, image, vehicles, whole_frame=True, near=()):
        import supervision as sv

        return sv.Detections.empty()

    def read_crops(self, crops, region="auto"):
        return []


def test_a_timed_run_is_scored_against_the_truth_and_a_broken_one_reported(tmp_path):
    """The pipeline as it runs (a detector that finds the car by colour, no plates): every frame
    timed, the car found once at its speed; a pipeline that raises part-way is reported as failed
    with the frames it got through, not the end of the bench."""
    from anpr.lab.video_bench import run_pipeline

    car = TruthCar("AAA111", 72.0, 1, 0.0, 2.3, False, "test/AAA111.jpg")
    made = draw_road_clip([(car, sprite(MAGENTA, "AAA111"))], tmp_path)
    run = run_pipeline("fake", made, lambda: {"detector": _ByColour(), "recognizer": _NoPlates()})
    assert run.failed is None and run.frames == made.frames
    assert run.realtime_factor == pytest.approx(made.seconds / run.wall_s)
    assert run.score is not None and run.score.unmatched == 0
    found = run.score.vehicles[0]
    assert found.events == 1 and found.read is None and not found.read_ok
    assert found.speed_error_pct is not None and abs(found.speed_error_pct) < 3
    options = {"detector": _ByColour(), "recognizer": _NoPlates(), "draw": False}
    live = run_pipeline("live", made, lambda: options)  # as anpr watch: no overlay, no video
    assert live.score == run.score and made.clip.with_name("fake.annotated.mp4").is_file()
    assert not made.clip.with_name("live.annotated.mp4").exists()
    broken = run_pipeline("broken", made, lambda: {"detector": _ByColour(5), "recognizer": _NoPlates()})
    assert broken.failed == "RuntimeError: boom" and 0 < broken.frames < made.frames
    assert broken.clip_s == pytest.approx(broken.frames / 25)
    assert broken.score is None and broken.summary().startswith("broken: failed after")
