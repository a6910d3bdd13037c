"""The video pipeline end to end: the real command and models on a sample clip against its ground
truth, and the signal, radar and stop-line logic on the other clip with perfect (ground-truth) boxes."""

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from anpr.lab import samples
from anpr.lab.scene import Camera
from anpr.platefirst import PlateFirst
from anpr.process import NAIVE_OPTIONS, ReadPolicy, VideoProcessor
from anpr.site import load_site
from anpr.video import open_source
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
ANPR = str(Path(sys.executable).with_name("anpr"))


def truth(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.truth.json").read_text())


def seconds(stamp: str | None, start: datetime) -> float | None:
    return (datetime.fromisoformat(stamp) - start).total_seconds() if stamp else None


def match(vehicles: list[dict], events: list[dict], start: datetime) -> dict[str, dict]:
    """Each truth vehicle's event: by stop-line crossing time, the one that never crosses by elimination."""
    found = {}
    for v in vehicles:
        if v["crosses_stop_line_s"] is None:
            continue
        near = [
            e
            for e in events
            if e["crossed_stop_line_at"]
            and abs(seconds(e["crossed_stop_line_at"], start) - v["crosses_stop_line_s"]) < 0.2
        ]
        assert len(near) == 1, f"vehicle {v['name']}: {len(near)} events cross the line near its time"
        found[v["name"]] = near[0]
    rest = [e for e in events if not e["crossed_stop_line_at"]]
    for v in vehicles:
        if v["crosses_stop_line_s"] is None:
            assert len(rest) == 1, f"vehicle {v['name']}: {len(rest)} events never cross"
            found[v["name"]] = rest[0]
    return found


@pytest.mark.slow
def test_the_command_on_a_sample_clip_matches_its_ground_truth(tmp_path):
    db = f"sqlite:///{tmp_path / 'records.db'}"
    result = subprocess.run(
        [
            ANPR,
            "process",
            str(SAMPLES / "regal-chowk.mp4"),
            "--site",
            str(SAMPLES / "regal-chowk.yaml"),
            "--json",
            "--db",
            db,
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    expected = truth("regal-chowk")
    start = load_site(SAMPLES / "regal-chowk.yaml").start_time
    assert len(events) == len(expected["vehicles"])  # every vehicle once: none dropped, none split
    assert {
        "track_id",
        "plate",
        "vehicle_type",
        "first_seen",
        "last_seen",
        "speed_kmh",
        "speed_method",
        "crossed_stop_line_at",
        "violations",
    } <= set(events[0])
    found = match(expected["vehicles"], events, start)

    for v in expected["vehicles"]:
        event = found[v["name"]]
        assert sorted(x["code"] for x in event["violations"]) == sorted(v["violations"]), v["name"]
        if v["speed_kmh"] is not None:
            assert event["speed_kmh"] == pytest.approx(v["speed_kmh"], rel=0.05), v["name"]
            assert event["speed_method"] == "calibrated-ground-plane"
    assert found["C"]["plate"]["text"] == ""  # no plate: still an event, with an empty read
    plated = [v for v in expected["vehicles"] if v["plate"]]
    right = [v["name"] for v in plated if found[v["name"]]["plate"]["text"] == v["plate"]]
    assert len(right) >= len(plated) - 1, f"plates read right: {right}"
    for v in plated:
        plate = found[v["name"]]["plate"]
        if plate["text"]:
            assert plate["candidates"][0]["text"] == plate["text"] and 0 < plate["confidence"] <= 1

    red = next(x for x in found["D"]["violations"] if x["code"] == "RED_LIGHT")
    assert red["seconds_into_red"] == pytest.approx(6.3 - 5.5, abs=0.2) and red["amber_seconds"] == 2.5
    over = next(x for x in found["B"]["violations"] if x["code"] == "OVER_SPEED")
    assert over["limit_kmh"] == 60 and over["speed_kmh"] > 80

    from challan import crud, evidence
    from challan.db import session_scope

    with session_scope(db) as session:
        pending = crud.list_violations(session, status="pending")
        assert sorted(v.code for v in pending) == ["OVER_SPEED", "RED_LIGHT"]
        for violation in pending:
            kinds = sorted(f.kind for f in violation.evidence)
            assert kinds == ["plate_crop", "scene_after", "scene_at", "scene_before"]
            for item in violation.evidence:
                assert evidence.sha256_file(item.path) == item.sha256
    annotated = cv2.VideoCapture(str(tmp_path / "out" / "annotated.mp4"))
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == round(expected["duration_s"] * expected["fps"])


class TruthDetector:
    """A perfect vehicle detector for a sample clip: the boxes its scenario says, frame by frame."""

    def __init__(self, scenario, fps: float):
        self.scenario, self.fps, self.index = scenario, fps, 0

    def detect(self, image) -> sv.Detections:
        boxes = samples.ground_truth_boxes(self.scenario, Camera(), self.index / self.fps)
        self.index += 1
        kinds = np.array([kind for _, kind, _ in boxes] or [], dtype=object)
        return sv.Detections(
            xyxy=np.array([b for _, _, b in boxes], float).reshape(-1, 4),
            confidence=np.full(len(boxes), 0.9),
            class_id=np.full(len(boxes), 2),
            data={"vehicle_type": kinds},
        )


class NoPlates:
    def find_plates(self, image, vehicles):
        raise AssertionError("reading is switched off in this test")


def test_lamp_radar_and_stop_line_on_a_sample_clip_with_perfect_boxes(tmp_path):
    scenario = next(s for s in samples.SCENARIOS if s.name == "canal-road")
    site = load_site(SAMPLES / "canal-road.yaml")
    assert site.phases is None and site.radar is not None  # the lamp must be read, speeds come from radar
    source = open_source(SAMPLES / "canal-road.mp4")
    found_codes = []

    def judge(event):
        from dataclasses import replace

        from anpr.jobs.footage import site_rules
        from challan.rules import CODES, evaluate_all

        found_codes.append(event.track_id)
        # every rule, STOP_LINE too (off by default: the Punjab schedule sets it no fine)
        return evaluate_all(event, replace(site_rules(site), enabled=frozenset(CODES)))

    processor = VideoProcessor(
        site,
        recognizer=NoPlates(),
        detector=TruthDetector(scenario, source.fps),
        judge=judge,
        evidence_dir=tmp_path / "evidence",
        reads=ReadPolicy(min_vehicle_px=10**6),
    )
    judged = [j for frame in processor.run(source) for j in frame.events]
    assert [(p.start_s, p.state) for p in processor.timeline.phases] == [
        (0.0, "red"),
        (1.0, "green"),
        (4.4, "amber"),
        (6.0, "red"),
    ]
    expected = truth("canal-road")
    events = [dict(j.event.to_json(), violations=[{"code": f.code} for f in j.findings]) for j in judged]
    found = match(expected["vehicles"], events, site.start_time)
    for v in expected["vehicles"]:
        event = found[v["name"]]
        assert sorted(x["code"] for x in event["violations"]) == sorted(v["violations"]), v["name"]
        assert event["signal_state_at_crossing"] == v["signal_at_crossing"]
        assert seconds(event["crossed_stop_line_at"], site.start_time) == pytest.approx(
            v["crosses_stop_line_s"], abs=0.06
        )
    assert [found[n]["speed_method"] for n in "PQR"] == ["radar"] * 3
    assert [found[n]["speed_kmh"] for n in "PQR"] == [40.0, 75.0, 45.0]
    assert found["P"]["vehicle_type"] == "truck"
    s = found["S"]  # braked to a stop past the line: ground-plane speed, and the time it stood still
    assert s["speed_method"] == "calibrated-ground-plane"
    stopped = seconds(s["stopped_past_line_at"], site.start_time)
    assert 7.0 < stopped < 8.5
    written = sorted(p.name.rsplit("_", 1)[-1] for p in (tmp_path / "evidence").iterdir())
    assert written.count("at.jpg") == 3  # Q, R and S offended; P did not
    assert found_codes and len(found_codes) >= len(judged)
    assert all(j.event.evidence for j in judged if j.findings)
    assert all(
        isinstance(j.event.first_seen, datetime)
        and j.event.last_seen - j.event.first_seen > timedelta(seconds=0.5)
        for j in judged
    )


class _Clock:
    time_s = 0.0


class _Road:
    """A blank 25 fps road, 640x480, whose frames set the clock a fake detector reads."""

    name, fps, frame_count, size = "road", 25.0, 75, (640, 480)

    def __init__(self, clock: _Clock):
        self.clock = clock

    def __iter__(self):
        from anpr.video import Frame

        for index in range(self.frame_count):
            self.clock.time_s = index / self.fps
            yield Frame(index, index / self.fps, np.zeros((480, 640, 3), np.uint8))


class _MovingBox:
    """One vehicle box sliding down the image at a constant pixel speed: its bottom edge at
    `bottom0 + px_per_s * t`, its top at `top` (0: cut by the frame's top edge), or a fixed height."""

    def __init__(
        self, clock: _Clock, bottom0: float, px_per_s: float, top: float | None = None, height=120.0
    ):
        self.clock, self.bottom0, self.px_per_s, self.top, self.height = clock, bottom0, px_per_s, top, height
        self.calls = 0

    def bottom(self, t: float) -> float:
        return self.bottom0 + self.px_per_s * t

    def detect(self, image) -> sv.Detections:
        self.calls += 1
        bottom = self.bottom(self.clock.time_s)
        top = self.top if self.top is not None else bottom - self.height
        return sv.Detections(
            xyxy=np.array([[220.0, top, 420.0, bottom]]),
            confidence=np.array([0.9]),
            class_id=np.array([7]),
            data={"vehicle_type": np.array(["truck"], dtype=object)},
        )


def _red_site(folder: Path):
    """Image rows 100..460 span 30 m of road; the stop line at row 380; red from the start."""
    (folder / "phases.csv").write_text("time,state\n0,red\n")
    (folder / "site.yaml").write_text(
        "site: {id: T-1}\ncamera: {start_time: '2026-11-20T08:00:00+05:00'}\n"
        "calibration: {image: [[100, 460], [540, 460], [540, 100], [100, 100]], "
        "world: [[0, 0], [7, 0], [7, 30], [0, 30]]}\n"
        "speed: {limit_kmh: 60}\nsignal: {stop_line: [[100, 380], [540, 380]], phases: phases.csv}\n"
    )
    return load_site(folder / "site.yaml")


def _events(site, detector, clock, **options):
    from anpr.jobs.footage import site_rules
    from challan.rules import evaluate_all

    processor = VideoProcessor(
        site,
        recognizer=NoPlates(),
        detector=detector,
        judge=lambda event: evaluate_all(event, site_rules(site)),
        reads=ReadPolicy(min_vehicle_px=10**6),
        **({"plate_first": False} | options),  # a blank road holds no plate: no plate model needed
    )
    return [j for frame in processor.run(_Road(clock)) for j in frame.events]


def test_a_tall_vehicle_cut_at_the_top_still_crosses_the_stop_line_on_red(tmp_path):
    """A truck close to the camera: its box touches the top of the frame all the way, but its bottom
    edge, where it meets the road, crosses the stop line on red: a crossing and a RED_LIGHT."""
    clock = _Clock()
    truck = _MovingBox(clock, bottom0=300.0, px_per_s=60.0, top=0.0)
    site = _red_site(tmp_path)
    (judged,) = _events(site, truck, clock)
    crossed = (judged.event.crossed_stop_line_at - site.start_time).total_seconds()
    assert crossed == pytest.approx((380 - 300) / 60, abs=1 / 25)
    assert [f.code for f in judged.findings] == ["RED_LIGHT"]
    assert judged.event.speed_kmh is not None


def test_detecting_on_a_stride_keeps_the_crossing_time_and_the_speed(tmp_path):
    """At 25 fps the detector runs on every 4th frame once a track is established; the crossing time
    stays within one frame interval of the truth and the speed within 3 % of detecting on every frame."""
    site = _red_site(tmp_path)
    every, strided = {}, {}
    for name, options in (("every", NAIVE_OPTIONS), ("strided", {})):
        clock = _Clock()
        car = _MovingBox(clock, bottom0=260.0, px_per_s=70.0)
        (judged,) = _events(site, car, clock, **options)
        (every if name == "every" else strided).update(
            calls=car.calls,
            crossed=(judged.event.crossed_stop_line_at - site.start_time).total_seconds(),
            kmh=judged.event.speed_kmh,
        )
    # every frame until the track has 3 detections (frames 0-3), then every 4th: 7, 11, ... 71
    assert every["calls"] == 75 and strided["calls"] == 21
    truth = (380 - 260) / 70
    assert every["crossed"] == pytest.approx(truth, abs=1 / 25)
    assert strided["crossed"] == pytest.approx(truth, abs=1 / 25)
    assert strided["kmh"] == pytest.approx(every["kmh"], rel=0.03)


def test_a_vehicle_crossing_the_picture_fast_is_detected_more_often(tmp_path):
    """A box 40 px tall moving 300 px a second would move 48 px (more than its height) between
    detections on a stride of 4: it is detected every third frame instead (0.8 of its height is
    32 px, 2.7 frames), so that the tracker's prediction still lands on it. One moving 20 px a
    second keeps the stride."""
    site = _red_site(tmp_path)
    calls = {}
    for px_per_s in (20.0, 300.0):
        clock = _Clock()
        car = _MovingBox(clock, bottom0=130.0, px_per_s=px_per_s, height=40.0)
        _events(site, car, clock)
        calls[px_per_s] = car.calls
    assert calls[20.0] == 21  # every 4th frame once the track is established
    assert 26 <= calls[300.0] <= 30  # every third frame: (75 - 4) / 3 after the first four


class _Nothing:
    """A detector that finds nothing, counting its calls."""

    calls = 0

    def detect(self, image) -> sv.Detections:
        self.calls += 1
        return sv.Detections(
            xyxy=np.zeros((0, 4)),
            confidence=np.zeros(0),
            class_id=np.zeros(0, int),
            data={"vehicle_type": np.array([], dtype=object)},
        )


def test_the_detector_is_spared_a_still_empty_road(tmp_path):
    """Three seconds of an unchanging road with nothing on it: the detector runs at the first frame
    and once more two seconds later (the safety net), not about 19 times (every 4th frame); with
    the picture changing it runs on the stride."""
    site = _red_site(tmp_path)
    still, off = _Nothing(), _Nothing()
    assert _events(site, still, _Clock()) == []
    assert _events(site, off, _Clock(), motion=False) == []
    assert still.calls == 2 and off.calls == 19

    class _Flicker(_Road):
        def __iter__(self):
            for frame in super().__iter__():
                frame.image[:40, :40] = 37 * frame.index % 256  # a lamp in the corner, never still
                yield frame

    busy = _Nothing()
    processor = VideoProcessor(site, recognizer=NoPlates(), detector=busy, plate_first=False)
    list(processor.run(_Flicker(_Clock())))
    assert busy.calls == 19

    # the whole-frame plate look (twice a second) is spared with the vehicle detector: an unchanged
    # picture holds no new plate either
    vehicles, plates = _Nothing(), _Nothing()
    assert _events(site, vehicles, _Clock(), plate_first=PlateFirst(plates)) == []
    assert vehicles.calls == 2 and plates.calls == 2


@pytest.mark.slow
def test_without_the_video_the_events_are_the_same_and_nothing_is_drawn(tmp_path):
    """--no-video (and anpr watch, which writes no video) skips the overlay and the judging so far
    that only colours it: the same vehicles, reads, speeds and violations, and no annotated.mp4."""

    def events(*extra: str) -> list[dict]:
        out = tmp_path / ("plain" if extra else "drawn")
        args = ["process", str(SAMPLES / "regal-chowk.mp4"), "--site", str(SAMPLES / "regal-chowk.yaml")]
        result = subprocess.run(
            [ANPR, *args, "--json", "--no-store", "--out", str(out), *extra],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        assert (out / "annotated.mp4").exists() is not bool(extra)
        found = [json.loads(line) for line in result.stdout.splitlines()]
        keep = ("track_id", "plate", "speed_kmh", "crossed_stop_line_at", "violations")
        return [{k: e[k] for k in keep} for e in found]

    drawn, plain = events(), events("--no-video")
    assert plain == drawn and any(e["violations"] for e in drawn)

    site = load_site(SAMPLES / "regal-chowk.yaml")
    calls = {}
    for draw in (True, False):
        judged: list = []
        processor = VideoProcessor(
            site, draw=draw, judge=lambda event, judged=judged: judged.append(event) or []
        )
        frames = list(processor.run(open_source(SAMPLES / "regal-chowk.mp4", site.config.camera.fps)))
        calls[draw] = len(judged)
        events = sum(len(frame.events) for frame in frames)
        height = frames[0].image.shape[0]
        assert height == (540 if draw else 1440)  # not drawn: the frame itself, not a 540-line drawing
    assert calls[False] == events < calls[True]  # judged once a vehicle, not also to colour the overlay
