"""The sample clips: their scenarios are consistent, the committed files match the generator, and the
site file's calibration is the camera that drew them."""

import json

import cv2
import numpy as np
import pytest

from anpr.lab import samples
from anpr.lab.scene import Camera
from anpr.site import load_site
from anpr.speed import GroundPlane
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
BY_NAME = {s.name: s for s in samples.SCENARIOS}


@pytest.mark.parametrize("scenario", samples.SCENARIOS, ids=lambda s: s.name)
def test_vehicles_in_one_lane_never_overlap(scenario):
    for t in np.arange(0, scenario.duration_s, 0.05):
        for lane in (1, 2):
            ys = sorted((v.y_at(t), v) for v in scenario.vehicles if v.lane == lane)
            for (front, a), (back, _) in zip(ys, ys[1:], strict=False):
                length = 7.5 if a.kind == "truck" else 4.5
                assert back - (front + length) >= 1.0, f"{scenario.name} lane {lane} at {t:.2f} s"


@pytest.mark.parametrize("scenario", samples.SCENARIOS, ids=lambda s: s.name)
def test_crossings_are_clear_of_phase_changes(scenario):
    changes = [start for start, _ in scenario.phases[1:]]
    for v in scenario.vehicles:
        crossing = v.line_crossing_s()
        if crossing is not None:
            assert min(abs(crossing - c) for c in changes) >= 0.35, v.name


def test_the_samples_hold_the_offences_the_tests_need():
    codes = [c for s in samples.SCENARIOS for v in s.vehicles for c in samples.expected_violations(s, v)]
    assert {"OVER_SPEED", "RED_LIGHT", "STOP_LINE"} <= set(codes)
    assert any(v.plate_style is None for v in BY_NAME["regal-chowk"].vehicles)  # one without a plate
    assert [
        samples.expected_violations(BY_NAME["regal-chowk"], v) for v in BY_NAME["regal-chowk"].vehicles
    ] == [[], ["OVER_SPEED"], [], ["RED_LIGHT"], []]


def test_a_braking_vehicle_crosses_where_its_motion_says():
    s = BY_NAME["canal-road"].vehicles[3]
    crossing = s.line_crossing_s()
    assert s.y_at(crossing) == pytest.approx(samples.STOP_Y)
    assert s.y_at(s.cross_s) == s.stop_y == s.y_at(s.cross_s + 5)
    assert s.y_at(0) - s.y_at(0.1) == pytest.approx(s.kmh / 3.6 * 0.1)


@pytest.mark.parametrize("name", ["regal-chowk", "canal-road"])
def test_committed_files_match_the_generator(tmp_path, name):
    scenario = BY_NAME[name]
    samples._write_truth(scenario, samples.plates(scenario), tmp_path)
    _, head = samples.render_frame(scenario, Camera(), 0.0, {})
    samples._write_site(scenario, Camera(), head, tmp_path)
    for produced in tmp_path.iterdir():
        assert produced.read_text() == (SAMPLES / produced.name).read_text(), (
            f"{produced.name} is stale: run python -m anpr.lab.samples"
        )
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    assert [v["name"] for v in truth["vehicles"]] == [v.name for v in scenario.vehicles]


@pytest.mark.parametrize("name", ["regal-chowk", "canal-road"])
def test_clips_are_small_and_have_the_frames_the_truth_says(name):
    clip = SAMPLES / f"{name}.mp4"
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    assert clip.stat().st_size < 600_000
    capture = cv2.VideoCapture(str(clip))
    assert capture.get(cv2.CAP_PROP_FPS) == truth["fps"]
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == round(truth["duration_s"] * truth["fps"])
    capture.release()


def test_a_frame_of_the_clip_is_what_the_generator_draws():
    scenario = BY_NAME["regal-chowk"]
    capture = cv2.VideoCapture(str(SAMPLES / "regal-chowk.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 25)
    ok, decoded = capture.read()
    capture.release()
    drawn, _ = samples.render_frame(scenario, Camera(), 2.5, samples.plates(scenario))
    assert ok and np.abs(decoded.astype(int) - drawn).mean() < 6  # only compression differs
    moved, _ = samples.render_frame(scenario, Camera(), 2.8, samples.plates(scenario))
    assert np.abs(decoded.astype(int) - moved).mean() > np.abs(decoded.astype(int) - drawn).mean()


@pytest.mark.parametrize("name", ["regal-chowk", "canal-road"])
def test_the_site_calibration_is_the_drawing_camera(name):
    site = load_site(SAMPLES / f"{name}.yaml")
    plane = GroundPlane(site.config.calibration.image, site.config.calibration.world)
    world = np.array([[1.75, -5.0], [5.25, 12.0], [3.5, 45.0]])
    assert np.allclose(plane.to_world(Camera().ground_to_image(world)), world, atol=0.03)


def test_ground_truth_boxes_cover_the_vehicles_in_view():
    scenario = BY_NAME["regal-chowk"]
    boxes = dict((name, box) for name, _, box in samples.ground_truth_boxes(scenario, Camera(), 2.0))
    assert set(boxes) == {"A", "B", "C", "D", "E"}
    a = boxes["A"]  # at the stop line at 2.0 s: its box bottom is on the line's row
    stop_row = Camera().ground_to_image([(1.75, samples.STOP_Y)])[0, 1]
    assert a[1] < stop_row and abs(a[3] - stop_row) < 40
