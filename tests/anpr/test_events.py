"""The events stage measures speed on boxes it can trust: not those cut by the frame's edge, nor those
the tracker kept at a low detection score only to keep the track alive."""

from pathlib import Path

import numpy as np

from anpr.events import GROUND_MIN_CONFIDENCE, EventBuilder
from anpr.signal import SignalTimeline
from anpr.site import load_site
from anpr.tracks import Track


def test_low_score_boxes_give_no_ground_point(tmp_path: Path):
    (tmp_path / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\nspeed: {limit_kmh: 60}\n"
    )
    builder = EventBuilder(load_site(tmp_path / "site.yaml"), SignalTimeline())
    track = Track(1)
    for k in range(6):
        track.times.append(k * 0.2)
        track.boxes.append(np.array([250.0, 150 + 20 * k, 350.0, 250 + 20 * k]))
        track.clipped.append(False)
        track.confidences.append(0.9 if k % 2 else GROUND_MIN_CONFIDENCE / 2)
    times, world = builder.ground_path(track)
    assert list(np.round(times, 1)) == [0.2, 0.6, 1.0] and len(world) == 3


def test_a_box_wider_than_a_vehicle_on_the_road_gives_no_ground_point(tmp_path: Path):
    """Image rows 100..460 span 30 m and columns 100..540 span 7 m at the bottom: a box 440 px wide
    there is 7 m on the road (a close-up's bumper filling the lane), one 100 px wide 1.6 m."""
    (tmp_path / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\nspeed: {limit_kmh: 60}\n"
    )
    builder = EventBuilder(load_site(tmp_path / "site.yaml"), SignalTimeline())
    track = Track(1)
    for k, wide in enumerate((False, True, False, True)):
        track.times.append(k * 0.2)
        left, right = (100.0, 540.0) if wide else (270.0, 370.0)
        track.boxes.append(np.array([left, 200 + 20 * k, right, 300 + 20 * k]))
        track.clipped.append(False)
        track.confidences.append(0.9)
    times, _ = builder.ground_path(track)
    assert list(np.round(times, 1)) == [0.0, 0.4]
