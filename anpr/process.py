"""Footage in, vehicle events out. Per frame: detect vehicles, track them, read plates on the vehicles
near enough to carry a legible one, note stop-line crossings, watch the signal. A track that has not
been seen for a while is closed into one VehicleEvent (voted plate, type and colour, ground-plane or
radar speed, crossing against the signal), judged, and given evidence images when judged guilty.

The judge is passed in (the CLI hands it challan.rules), so anpr/ stays free of the law and records."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import cast

import numpy as np
import supervision as sv

from anpr import speed as sp
from anpr.annotate import SceneAnnotator, track_label
from anpr.evidence import KeyFrames, write_evidence
from anpr.signal import LightObserver, SignalTimeline, StopLine
from anpr.site import Site
from anpr.track import VehicleTracker, vehicle_colour
from anpr.types import PlateRead, VehicleEvent
from anpr.video import FrameSource
from anpr.vote import settled, vote_label, vote_plate

VEHICLE_TYPE = "vehicle_type"
Judge = Callable[[VehicleEvent], Sequence]  # returns findings (objects with .code)


@dataclass(frozen=True)
class JudgedEvent:
    event: VehicleEvent
    findings: tuple = ()


@dataclass(frozen=True)
class ProcessedFrame:
    index: int
    time_s: float
    image: np.ndarray  # annotated copy of the frame
    events: tuple[JudgedEvent, ...] = ()  # tracks closed at this frame (at the end: all the rest)


@dataclass(frozen=True)
class DetectionSchedule:
    """How often the vehicle detector runs: about `detect_hz` times a second of footage, on every
    `stride`-th frame (at least every frame). Between detections each track's box is carried forward
    at its last velocity for the overlay only; speeds, crossings and reads use detected boxes, and a
    crossing's time is interpolated between the two detections either side of the line, as it is
    between frames. The detector is the costliest step per frame: at 25 fps a stride of 4 spends a
    quarter of the time on it."""

    detect_hz: float = 6.25

    def stride(self, fps: float) -> int:
        return max(1, int(fps / self.detect_hz + 1e-9))


# Every model on every frame: the naive loop `anpr bench video --realtime` compares against (with a
# ReadPolicy that never settles).
NAIVE_OPTIONS = {"schedule": DetectionSchedule(detect_hz=float("inf"))}


@dataclass(frozen=True)
class ReadPolicy:
    """When a plate is worth reading: the vehicle box and the plate box wide enough to be legible,
    and the track not yet settled (settle_count agreeing reads) nor out of attempts."""

    min_vehicle_px: int = 80
    min_plate_px: int = 50
    settle_count: int = 3
    max_attempts: int = 10


def default_recognizer(reader: str = "auto", detector=None):
    """The plate recognizer for video: plates are searched inside each vehicle box at 320 px (the
    box is small; the 640 px default spends four times the time to find the same plates)."""
    from anpr.detect import PlateDetector
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    return PlateRecognizer(
        reader=get_reader(reader), vehicle_detector=detector, plate_detector=PlateDetector(imgsz=320)
    )


@dataclass
class _Track:
    id: int
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    colours: list[str | None] = field(default_factory=list)
    reads: list[PlateRead] = field(default_factory=list)
    crops: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)  # best crop per text
    crossing_s: float | None = None
    last_ground: tuple[float, float] | None = None  # last usable bottom-centre (image), for crossings
    keyframes: KeyFrames = field(default_factory=KeyFrames)
    after_due: int | None = None
    last_image: np.ndarray | None = None

    def box_at(self, frame: int):
        return tuple(self.boxes[self.frames.index(frame)]) if frame in self.frames else None


class VideoProcessor:
    def __init__(
        self,
        site: Site,
        recognizer=None,
        detector=None,
        judge: Judge | None = None,
        evidence_dir: Path | None = None,
        region: str | None = None,
        min_track_frames: int = 3,
        reads: ReadPolicy | None = None,
        merge_gap_s: float = 2.0,
        schedule: DetectionSchedule | None = None,
    ):
        self.site, self.config = site, site.config
        self.recognizer, self.detector = recognizer, detector
        self.judge, self.evidence_dir = judge, evidence_dir
        self.region = region or site.config.site.plate_region  # None: the site file's
        # a track closes only once it can no longer be continued by a fragment
        self.min_track_frames, self.merge_gap_s = min_track_frames, merge_gap_s
        self.close_after_s = merge_gap_s + 0.1
        self.reads = reads or ReadPolicy()
        self.schedule = schedule or DetectionSchedule()
        cal = self.config.calibration
        self.ground = sp.GroundPlane(cal.image, cal.world)
        signal = self.config.signal
        self.stop_line = StopLine(*signal.stop_line) if signal else None
        self.light = (
            LightObserver(signal.light_region) if signal and signal.light_region and not site.phases else None
        )
        self.timeline = self.light.timeline if self.light else SignalTimeline(site.phases or ())
        self.radar = (
            sp.RadarMatcher(site.radar, self.config.road.lanes, self.config.speed.radar_line)
            if site.radar
            else None
        )
        self.annotator = SceneAnnotator(
            signal.stop_line if signal else None, cal.image, signal.light_region if signal else None
        )
        self.stats = {"frames": 0, "events": 0, "short_tracks": 0, "plate_reads": 0}
        self._tracks: dict[int, _Track] = {}
        self._closed_paths: list[tuple[sp.GroundPath, float | None]] = []

    # --- the loop -------------------------------------------------------------------------------

    def run(self, source: FrameSource) -> Iterator[ProcessedFrame]:
        if self.detector is None:
            from anpr.detect import VehicleDetector

            self.detector = VehicleDetector(conf=0.1)  # ByteTrack uses low scores to keep tracks alive
        if self.recognizer is None:
            self.recognizer = default_recognizer(detector=self.detector)
        self.fps, self.size = source.fps, source.size
        stride = self.schedule.stride(source.fps)
        # the tracker sees only the detection frames: its buffers count those
        self.tracker = VehicleTracker(fps=source.fps / stride, merge_gap_s=self.merge_gap_s)
        buffer: deque = deque(maxlen=max(2, round(0.5 * source.fps)) + 1)
        pending: ProcessedFrame | None = None  # held back one frame so the last one carries the flush
        detected: sv.Detections | None = None  # the last detection frame's tracked vehicles
        # by time, not by count: a live source may have thinned the frames (anpr.feed.Live)
        interval, due_s = stride / source.fps, -np.inf
        for frame in source:
            if pending is not None:
                yield pending
            buffer.append((frame.index, frame.image))
            signal = (
                self.light.observe(frame.image, frame.time_s)
                if self.light
                else self.timeline.state_at(frame.time_s)
            )
            if frame.time_s >= due_s - 0.25 / source.fps:
                due_s = frame.time_s + interval
                detected = self.tracker.update_with_detections(self.detector.detect(frame.image))
                self._observe(detected, frame.index, frame.time_s, frame.image, buffer)
                self._read_plates(detected, frame.index, frame.image, buffer)
                vehicles = detected
            else:
                assert detected is not None  # the first frame is always a detection frame
                vehicles = self._carried(detected, frame.time_s)
            image = self._annotate(frame.image, vehicles, signal, frame.index, frame.time_s)
            closed = [
                self._close(t)
                for t in list(self._tracks.values())
                if frame.time_s - t.times[-1] > self.close_after_s
            ]
            self.stats["frames"] += 1
            pending = ProcessedFrame(frame.index, frame.time_s, image, tuple(e for e in closed if e))
        if pending is not None:
            rest = tuple(e for e in (self._close(t) for t in list(self._tracks.values())) if e)
            yield replace(pending, events=pending.events + rest)

    def _observe(self, vehicles: sv.Detections, index: int, time_s: float, image: np.ndarray, buffer) -> None:
        clipped = sp.ground_clipped(vehicles.xyxy, self.size)
        assert vehicles.tracker_id is not None  # VehicleTracker sets ids on every result
        for row, track_id in enumerate(vehicles.tracker_id):
            track = self._tracks.setdefault(int(track_id), _Track(int(track_id)))
            box = vehicles.xyxy[row].astype(float)
            track.frames.append(index)
            track.times.append(time_s)
            track.boxes.append(box)
            track.clipped.append(bool(clipped[row]))
            track.types.append(
                str(vehicles.data[VEHICLE_TYPE][row]) if VEHICLE_TYPE in vehicles.data else "unknown"
            )
            track.confidences.append(
                float(vehicles.confidence[row]) if vehicles.confidence is not None else 1.0
            )
            x1, y1, x2, y2 = box.astype(int)
            track.colours.append(vehicle_colour(image[max(0, y1) : y2, max(0, x1) : x2]))
            track.last_image = image
            if track.after_due is not None and index >= track.after_due:
                track.keyframes.frames["scene_after"] = (index, image, tuple(box))
                track.after_due = None
            if clipped[row]:
                continue
            point = tuple(sp.bottom_centres(box)[0])
            if self.stop_line and track.crossing_s is None and track.last_ground is not None:
                frac = self.stop_line.crossing(track.last_ground[1:], point)
                if frac is not None:
                    previous_t = track.last_ground[0]
                    track.crossing_s = previous_t + frac * (time_s - previous_t)
                    self._key_moment(track, index, image, box, buffer, score=np.inf)
            track.last_ground = (time_s, *point)
            if not track.keyframes.frames:
                self._key_moment(track, index, image, box, buffer, score=-1.0)

    def _read_plates(self, vehicles: sv.Detections, index: int, image: np.ndarray, buffer) -> None:
        """Read the plate of each vehicle near enough to carry a legible one, until its track has a
        settled consensus (reading is the costliest step; a settled track needs no more)."""
        from anpr.images import crop
        from anpr.pipeline import PLATE_PAD, VEHICLE_INDEX

        policy = self.reads
        assert vehicles.tracker_id is not None  # VehicleTracker sets ids on every result
        widths = vehicles.xyxy[:, 2] - vehicles.xyxy[:, 0]
        wanted = np.array(
            [
                w >= policy.min_vehicle_px and self._wants_reads(int(t))
                for w, t in zip(widths, vehicles.tracker_id, strict=True)
            ],
            dtype=np.bool_,
        )
        if not wanted.any():
            return
        subset = cast(sv.Detections, vehicles[wanted])  # supervision types __getitem__ as a union
        plates = self.recognizer.find_plates(image, subset, whole_frame=False)
        links = plates.data.get(VEHICLE_INDEX, np.full(len(plates), -1))
        best: dict[int, int] = {}  # vehicle row -> its widest plate box (one plate per vehicle)
        for i, row in enumerate(links):
            width = plates.xyxy[i, 2] - plates.xyxy[i, 0]
            wider = row not in best or width > plates.xyxy[best[row], 2] - plates.xyxy[best[row], 0]
            if row >= 0 and width >= policy.min_plate_px and wider:
                best[int(row)] = i
        if not best:
            return
        crops = [crop(image, plates.xyxy[i], *PLATE_PAD) for i in best.values()]
        reads = self.recognizer.read_crops(crops, self.region)
        self.stats["plate_reads"] += len(reads)
        assert subset.tracker_id is not None  # a subset keeps the tracker ids
        for (row, i), read, plate_crop in zip(best.items(), reads, crops, strict=True):
            track = self._tracks[int(subset.tracker_id[row])]
            read = replace(read, box=tuple(float(v) for v in plates.xyxy[i]))
            track.reads.append(read)
            if read.text and read.confidence > track.crops.get(read.text, (-1.0, None))[0]:
                track.crops[read.text] = (read.confidence, plate_crop.copy())
            if read.text and read.confidence > track.keyframes.score:
                self._key_moment(track, index, image, subset.xyxy[row], buffer, score=read.confidence)

    def _wants_reads(self, track_id: int) -> bool:
        track = self._tracks.get(track_id)
        if track is None or len(track.reads) >= self.reads.max_attempts:
            return False
        return not settled(track.reads, self.reads.settle_count)

    def _key_moment(self, track: _Track, index: int, image, box, buffer, score: float) -> None:
        keys = track.keyframes
        if keys.locked or score <= keys.score:
            return
        keys.score, keys.locked = score, score == np.inf
        keys.frames = {"scene_at": (index, image, tuple(box))}
        before_index, before_image = buffer[0]
        if before_index < index:
            keys.frames["scene_before"] = (before_index, before_image, track.box_at(before_index))
        track.after_due = index + buffer.maxlen - 1

    def _carried(self, detected: sv.Detections, time_s: float) -> sv.Detections:
        """The last detection frame's vehicles moved on to `time_s` at each track's last velocity
        (what the overlay draws between detections)."""
        assert detected.tracker_id is not None  # VehicleTracker sets ids on every result
        moved = [
            self._carried_box(int(t), row, time_s, detected) for row, t in enumerate(detected.tracker_id)
        ]
        carried = cast(sv.Detections, detected[np.ones(len(detected), dtype=np.bool_)])  # a copy
        carried.xyxy = np.asarray(moved, dtype=float).reshape(-1, 4)
        return carried

    def _carried_box(self, track_id: int, row: int, time_s: float, detected: sv.Detections) -> np.ndarray:
        track = self._tracks.get(track_id)
        if track is None or len(track.boxes) < 2 or track.times[-1] <= track.times[-2]:
            return detected.xyxy[row].astype(float)
        velocity = (track.boxes[-1] - track.boxes[-2]) / (track.times[-1] - track.times[-2])
        return track.boxes[-1] + velocity * (time_s - track.times[-1])

    def _annotate(
        self, image, vehicles: sv.Detections, signal: str | None, index: int, time_s: float
    ) -> np.ndarray:
        labels, alerts = [], []
        limit = self.config.speed.limit_kmh + self.config.speed.tolerance_kmh
        assert vehicles.tracker_id is not None  # VehicleTracker sets ids on every result
        for track_id in vehicles.tracker_id:
            track = self._tracks[int(track_id)]
            plate = vote_plate(track.reads)
            live = self._live_speed(track)
            labels.append(
                track_label(
                    track.id,
                    vote_label(track.types, track.confidences) or "vehicle",
                    plate.text if plate else None,
                    live,
                )
            )
            red = track.crossing_s is not None and self.timeline.state_at(track.crossing_s) == "red"
            if red or (live is not None and live > limit):
                alerts.append(track.id)
        moment = self.site.start_time + timedelta(seconds=time_s)
        tenths = moment.microsecond // 100000
        banner = f"{self.site.id}  frame {index}  {moment:%Y-%m-%d %H:%M:%S}.{tenths}"
        return self.annotator.annotate(image, vehicles, labels, signal, banner, alerts)

    def _live_speed(self, track: _Track) -> float | None:
        times, world = self._ground_path(track, since_s=track.times[-1] - self.config.speed.window_s - 0.01)
        windows = sp.window_speeds(times, world, self.config.speed.window_s)
        return windows[-1].kmh if windows else None

    # --- closing a track into an event ----------------------------------------------------------

    def _ground_path(self, track: _Track, since_s: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Times and world positions of the samples that show the ground point inside the calibrated
        area (boxes cut by the frame edge left out)."""
        use = [
            i
            for i, (t, c) in enumerate(zip(track.times, track.clipped, strict=True))
            if not c and t >= since_s
        ]
        if not use:
            return np.zeros(0), np.zeros((0, 2))
        points = sp.bottom_centres(np.asarray([track.boxes[i] for i in use]))
        safe = self.ground.horizon_safe(points)
        world = self.ground.to_world(points)
        inside = safe & self.ground.inside(world, self.config.speed.margin_m)
        return np.asarray(track.times)[use][inside], world[inside]

    def _close(self, track: _Track) -> JudgedEvent | None:
        del self._tracks[track.id]
        self.tracker.merger.forget(track.id)
        if len(track.frames) < self.min_track_frames:
            self.stats["short_tracks"] += 1
            return None
        times, world = self._ground_path(track)
        windows = sp.window_speeds(times, world, self.config.speed.window_s)
        speed = sp.track_speed(windows)
        method = sp.GROUND_PLANE if speed is not None else None
        path = sp.GroundPath(track.id, times, world)
        if self.radar is not None:
            others = [(sp.GroundPath(t.id, *self._ground_path(t)), None) for t in self._tracks.values()]
            reading = self.radar.claim(path, speed, others + self._closed_paths)
            if reading is not None:
                speed, method = reading.speed_kmh, sp.RADAR
        self._closed_paths = [
            p for p in self._closed_paths if p[0].times.size and p[0].times[-1] > track.times[-1] - 30
        ][-50:] + [(path, speed)]
        event = self._event(track, windows, speed, method)
        findings = tuple(self.judge(event)) if self.judge else ()
        if findings and self.evidence_dir is not None:
            assert self.judge is not None  # findings come from the judge
            event = replace(event, evidence=self._evidence(track, event, [f.code for f in findings]))
            findings = tuple(self.judge(event))
        self.stats["events"] += 1
        return JudgedEvent(event, findings)

    def _event(self, track: _Track, windows, speed: float | None, method: str | None) -> VehicleEvent:
        def at(seconds: float):
            return self.site.start_time + timedelta(seconds=seconds)

        signal = self.timeline.at(track.crossing_s) if track.crossing_s is not None else None
        stopped = None
        if track.crossing_s is not None:
            stopped = next(
                (w.time_s for w in windows if w.time_s > track.crossing_s and w.kmh < sp.STOPPED_KMH), None
            )
        return VehicleEvent(
            site_id=self.site.id,
            track_id=track.id,
            vehicle_type=vote_label(track.types, track.confidences) or "unknown",
            first_seen=at(track.times[0]),
            last_seen=at(track.times[-1]),
            plate=vote_plate(track.reads),
            colour=vote_label(track.colours),
            speed_kmh=speed,
            speed_method=method,
            crossed_stop_line_at=at(track.crossing_s) if track.crossing_s is not None else None,
            signal_state_at_crossing=signal.state if signal else None,
            red_onset_at=at(signal.red_onset_s) if signal and signal.red_onset_s is not None else None,
            amber_seconds=signal.amber_seconds if signal else None,
            direction=sp.direction(sp.mean_velocity(windows), self.config.road.flow),
            stopped_past_line_at=at(stopped) if stopped is not None else None,
        )

    def _evidence(self, track: _Track, event: VehicleEvent, codes: list[str]):
        assert self.evidence_dir is not None  # _close asks for evidence only with a folder for it
        keys = track.keyframes
        if "scene_after" not in keys.frames and track.last_image is not None:
            keys.frames["scene_after"] = (track.frames[-1], track.last_image, tuple(track.boxes[-1]))
        plate = event.plate
        crop = track.crops.get(plate.text, (0, None))[1] if plate and plate.text else None
        return write_evidence(
            self.evidence_dir,
            event,
            keys,
            crop,
            self.site.start_time,
            self.fps,
            self.config.site.name,
            self.config.speed.limit_kmh,
            codes,
        )
