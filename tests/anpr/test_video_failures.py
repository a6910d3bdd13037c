"""The video path on a road clip built from real car photos (openalpr-dev's training half; the bench
keeps the validation half), with the real models, as `anpr process` runs it: the failures issue #25
found, each checked on real pixels. A close-up the vehicle model may not see is still one event with
its plate; two cars side by side are two events; no event carries a one- or two-character "plate"
(a read that fits no layout is recorded unread); speeds stay within 3 %."""

import pytest


@pytest.fixture(scope="module")
def clip_and_run(datasets, tmp_path_factory):
    from anpr.lab import video_bench as vb
    from anpr.lab.roadclip import road_clip

    folder = tmp_path_factory.mktemp("roadclip")
    clip = road_clip(6, 1, folder, split="train")  # 2 close-ups, 4 whole cars (2 side by side)
    run = vb.run_pipeline("anpr process", clip, vb.shipped_options, source=vb.shipped_source)
    assert run.failed is None and run.score is not None
    return clip, run


@pytest.mark.slow
def test_a_close_up_is_one_event_with_its_plate(clip_and_run):
    clip, run = clip_and_run
    close_ups = [v for v in run.score.vehicles if v.car.close_up]
    assert len(close_ups) == 2
    for vehicle in close_ups:
        assert vehicle.events == 1, f"{vehicle.car.plate}: {vehicle.events} events"
        assert vehicle.read_ok, f"{vehicle.car.plate} read {vehicle.read!r}"


@pytest.mark.slow
def test_two_cars_side_by_side_are_two_events(clip_and_run):
    clip, run = clip_and_run
    by_entry: dict[float, list] = {}
    for vehicle in run.score.vehicles:
        by_entry.setdefault(vehicle.car.entry_s, []).append(vehicle)
    (pair,) = [v for v in by_entry.values() if len(v) == 2]
    assert [v.events for v in pair] == [1, 1]
    # each its own plate, or unread where it never came 40 px wide: never the other's
    assert all(v.read in (v.car.plate, None, "") for v in pair)
    assert any(v.read_ok for v in pair)


@pytest.mark.slow
def test_no_event_carries_a_plate_that_fits_no_layout(clip_and_run):
    clip, run = clip_and_run
    assert run.score.extra == 0 and not run.score.missed
    for vehicle in run.score.vehicles:
        assert vehicle.read is None or vehicle.read == "" or len(vehicle.read) >= 4


@pytest.mark.slow
def test_speeds_stay_within_three_percent(clip_and_run):
    clip, run = clip_and_run
    assert run.score.errors and max(abs(e) for e in run.score.errors) <= 3.0


@pytest.fixture(scope="module")
def busy_clip_and_run(datasets, tmp_path_factory):
    """Twelve cars (seed 2): a close-up at 80 km/h, crossing the picture in 2.3 s, that the vehicle
    model never fires on, among others."""
    from anpr.lab import video_bench as vb
    from anpr.lab.roadclip import road_clip

    folder = tmp_path_factory.mktemp("busy-roadclip")
    clip = road_clip(12, 2, folder, split="train")
    run = vb.run_pipeline("anpr process", clip, vb.shipped_options, source=vb.shipped_source)
    assert run.failed is None and run.score is not None
    return clip, run


@pytest.mark.slow
def test_a_fast_close_up_only_the_plate_model_sees_is_one_event_with_its_plate(busy_clip_and_run):
    """Found twice a second by the whole-frame plate look, the close-up must be followed between
    looks: the tracker confirms a track at its second sighting (anpr.platefirst)."""
    clip, run = busy_clip_and_run
    close_ups = [v for v in run.score.vehicles if v.car.close_up]
    assert any(v.car.kmh >= 80 for v in close_ups)  # the case this clip is for
    for vehicle in close_ups:
        assert vehicle.events == 1, f"{vehicle.car.plate}: {vehicle.events} events"
        assert vehicle.read_ok, f"{vehicle.car.plate} read {vehicle.read!r}"
    assert not run.score.missed
