"""Ground-plane speed on hand-built boxes: exact values where the geometry is exact."""

import numpy as np
import pytest

from anpr import speed as sp
from anpr.site import RadarReading

# A camera that sees the 7 m x 30 m calibration rectangle as a trapezoid (far edge narrower).
IMAGE = [[100, 700], [800, 700], [600, 100], [300, 100]]
WORLD = [[0, 0], [7, 0], [7, 30], [0, 30]]


@pytest.fixture
def plane():
    return sp.GroundPlane(IMAGE, WORLD)


def test_the_four_calibration_points_map_exactly_both_ways(plane):
    assert np.allclose(plane.to_world(np.array(IMAGE, float)), WORLD, atol=1e-6)
    assert np.allclose(plane.to_image(np.array(WORLD, float)), IMAGE, atol=1e-6)


def test_a_straight_line_on_the_road_stays_straight_and_far_pixels_cover_more_metres(plane):
    near = plane.to_world(np.array([[450, 700], [450, 690]]))
    far = plane.to_world(np.array([[450, 110], [450, 100]]))
    assert np.allclose([near[0, 0], far[0, 0]], [3.5, 3.5], atol=1e-6)  # centre line stays x = 3.5
    assert abs(far[1, 1] - far[0, 1]) > 5 * abs(near[1, 1] - near[0, 1])  # perspective, not one scale


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((10, 10, 50, 50), False),
        ((10, 0, 50, 50), False),  # cut at the top only: the bottom edge, the ground point, is whole
        ((10, 2, 50, 471), False),  # a tall vehicle close to the camera
        ((0, 10, 50, 50), True),  # touches the left edge
        ((10, 10, 50, 479), True),  # touches the bottom
        ((10, 10, 50, 473), True),  # stops 6 px short of the bottom: still cut (margin 1.5 % = 7.2 px)
        ((10, 10, 630, 50), True),  # within 9.6 px of the right edge (width 640)
        ((10, 10, 628, 471), False),
    ],
)
def test_boxes_cut_at_the_sides_or_bottom_lose_their_ground_point(box, expected):
    assert bool(sp.ground_clipped(np.array([box]), (640, 480))[0]) is expected


def test_bottom_centre_is_where_the_vehicle_meets_the_road():
    assert sp.bottom_centres(np.array([[10, 20, 30, 60], [0, 0, 100, 10]])).tolist() == [[20, 60], [50, 10]]


def test_constant_speed_is_measured_exactly_through_the_perspective(plane):
    times = np.arange(0, 2.01, 0.1)  # 10 fps
    world = np.column_stack([np.full_like(times, 2.0), 25 - 15 * times])  # 15 m/s towards the camera
    pixels = plane.to_image(world)  # what the camera would see
    windows = sp.window_speeds(times, plane.to_world(pixels), window_s=1.0)
    assert len(windows) == 11  # one per start sample with a full second after it
    assert sp.track_speed(windows) == pytest.approx(54.0, abs=1e-6)
    assert sp.direction(sp.mean_velocity(windows), (0, -1)) == "with"
    assert sp.direction(sp.mean_velocity(windows), (0, 1)) == "against"


def test_jittery_boxes_average_out_and_one_bad_box_does_not_move_the_median():
    times = np.arange(0, 3.01, 0.1)
    y = 40 - 10 * times + np.where(np.arange(len(times)) % 2, 0.05, -0.05)
    y[15] += 3.0  # one box badly off
    windows = sp.window_speeds(times, np.column_stack([np.zeros_like(y), y]), window_s=1.0)
    assert sp.track_speed(windows) == pytest.approx(36.0, rel=0.03)


def test_a_short_track_gets_one_fit_and_a_tiny_one_none():
    short = sp.window_speeds([0, 0.2, 0.4, 0.6], np.array([[0, 0], [0, 2], [0, 4], [0, 6]]), window_s=1.0)
    assert len(short) == 1 and short[0].kmh == pytest.approx(36.0)
    assert sp.window_speeds([0, 0.1], np.array([[0, 0], [0, 1]])) == []
    assert sp.track_speed([]) is None


def test_a_vehicle_waiting_at_the_line_keeps_its_moving_speed():
    times = np.arange(0, 4.01, 0.1)
    y = np.where(times < 2, 30 - 10 * times, 10.0)  # 36 km/h, then stands for two seconds
    windows = sp.window_speeds(times, np.column_stack([np.zeros_like(y), y]))
    assert min(w.kmh for w in windows) < sp.STOPPED_KMH
    assert sp.track_speed(windows) == pytest.approx(36.0, abs=0.5)


@pytest.mark.parametrize(("x", "lane"), [(-0.1, None), (0.0, 1), (3.49, 1), (3.5, 2), (6.9, 2), (7.0, None)])
def test_lane_of(x, lane):
    assert sp.lane_of(x, [0.0, 3.5, 7.0]) == lane
    assert sp.lane_of(x, None) is None


def _path(track_id, lane_x, y0, v):
    times = np.arange(0, 4.01, 0.1)
    return sp.GroundPath(track_id, times, np.column_stack([np.full_like(times, lane_x), y0 - v * times]))


def test_radar_reading_goes_to_the_track_nearest_its_line_in_its_lane():
    a, b, c = _path(1, 1.75, 30, 10), _path(2, 1.75, 45, 10), _path(3, 5.25, 30, 10)
    readings = [RadarReading(1.5, 37.0, lane=1), RadarReading(3.0, 35.0, lane=1)]
    matcher = sp.RadarMatcher(readings, lanes=[0, 3.5, 7], radar_line=15.0)
    others = [(a, None), (b, None), (c, None)]
    # at 1.5 s: a is at y=15 (on the line), b at 30; at 3.0 s: a at 0, b at 15
    assert matcher.claim(c, None, others) is None  # lane 2: no reading for it
    assert matcher.claim(b, None, others) == readings[1]
    assert matcher.claim(a, None, others) == readings[0]
    assert matcher.readings == []


def test_without_a_radar_line_the_nearest_speed_wins():
    a, b = _path(1, 1.75, 30, 10), _path(2, 5.25, 30, 20)
    matcher = sp.RadarMatcher([RadarReading(1.0, 71.0)])
    assert matcher.claim(a, 36.0, [(b, 72.0)]) is None
    assert matcher.claim(b, 72.0, [(a, 36.0)]).speed_kmh == 71.0
