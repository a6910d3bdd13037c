"""Footage in, vehicle events out, as a chain of small stages that pass one frame's tracked
vehicles (supervision Detections) along:

    detection schedule -> tracks -> read scheduler -> key frames -> vehicle events -> judge

- the detection schedule (DetectionSchedule) runs the vehicle detector and tracker about six times a
  second of footage (more often while a vehicle appears or crosses the picture fast), and carries
  boxes forward in between, for the overlay and for looking at plates in reading range; twice a
  second the plate detector also looks for plates no vehicle was found around (anpr.platefirst);
- the tracks stage (anpr.tracks) keeps what each vehicle was seen doing, and its stop-line crossing;
- the read scheduler (anpr.reads) looks at the plates of vehicles near enough with a small reader,
  and reads the best crops with the full reader until the track's read settles;
- the key frames stage (anpr.evidence.KeyMoments) picks each track's evidence frames;
- the events stage (anpr.events) closes a track that has left the picture into one VehicleEvent;
- the judge (challan's rules, passed in so that anpr/ stays free of the law) judges it once, and
  evidence images are written for what it found. The overlay draws what the same judge finds on
  the track so far; it never applies a rule of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import cast

import numpy as np
import supervision as sv

from anpr.annotate import SceneAnnotator, track_label
from anpr.events import EventBuilder
from anpr.evidence import KeyMoments, write_evidence
from anpr.motion import Stillness
from anpr.platefirst import PlateFirst
from anpr.reads import ReadPolicy, ReadScheduler, quick_reader
from anpr.signal import LightObserver, SignalTimeline, StopLine
from anpr.site import Site
from anpr.track import VehicleTracker
from anpr.tracks import PLATE_FIRST, Sighting, Track, TrackBook
from anpr.types import PlateRead, VehicleEvent
from anpr.video import FrameSource
from anpr.vote import vote_label, vote_plate

__all__ = [
    "NAIVE_OPTIONS",
    "DetectionSchedule",
    "JudgedEvent",
    "ProcessedFrame",
    "ReadPolicy",
    "VideoProcessor",
]

Judge = Callable[[VehicleEvent], Sequence]  # returns findings (objects with .code)
# A track is detected on every frame until it has this many detections; a box this confident that no
# track holds yet (a vehicle appearing: ByteTrack starts tracks at 0.25) is looked at again at once.
SETTLED_FRAMES = 3
SETTLED_SCORE = 0.25
# Between two detections no box may move more than this share of its height (edge by edge). The
# tracker predicts each box over the real interval (anpr.track), so a box that moved this far still
# lands on its prediction; 0.4 was needed while the prediction was one step per update, whatever
# the interval (_motion_interval; docs/notes/realtime-2.md).
MAX_STEP = 0.8


@dataclass(frozen=True)
class JudgedEvent:
    event: VehicleEvent
    findings: tuple = ()


@dataclass(frozen=True)
class ProcessedFrame:
    index: int
    time_s: float
    image: np.ndarray  # annotated copy of the frame (the frame itself where nothing is drawn)
    events: tuple[JudgedEvent, ...] = ()  # tracks closed at this frame (at the end: all the rest)


@dataclass(frozen=True)
class DetectionSchedule:
    """How often the vehicle detector runs: about `detect_hz` times a second of footage, on every
    `stride`-th frame (at least every frame). Between detections each track's box is carried forward
    at its last velocity for the overlay only; speeds, crossings and reads use detected boxes, and a
    crossing's time is interpolated between the two detections either side of the line, as it is
    between frames. The detector is the costliest step per frame: at 25 fps a stride of 4 spends a
    quarter of the time on it. It runs on every frame instead while a vehicle is appearing or its
    track is young (VideoProcessor._settling), and sooner than the stride while a vehicle moves so
    fast across the picture that its boxes would no longer overlap (VideoProcessor._motion_interval).
    Between detections, plates in reading range are looked for inside their vehicles' carried boxes
    (VideoProcessor._look, anpr.reads.ReadScheduler.near)."""

    detect_hz: float = 6.25
    plate_first_s: float = 0.5  # how often the whole frame is searched for plates outside vehicles

    def stride(self, fps: float) -> int:
        return max(1, int(fps / self.detect_hz + 1e-9))


# Every model on every frame: the naive loop `anpr bench video --realtime` compares against (with a
# ReadPolicy that never settles).
NAIVE_OPTIONS = {
    "schedule": DetectionSchedule(detect_hz=float("inf"), plate_first_s=0.0),
    "quick_reads": False,
    "motion": False,
}


def video_detector():
    """The vehicle detector video runs: scores down to 0.1 (ByteTrack keeps tracks alive on low
    scores), float32 weights, or int8 where ANPR_VIDEO_DETECTOR=int8 (1.5x faster: the cost per
    camera; docs/notes/int8-detectors.md)."""
    from anpr.detect import VehicleDetector
    from anpr.settings import environment

    return VehicleDetector(conf=0.1, precision=environment().video_detector)


def default_recognizer(reader: str = "auto", detector=None):
    """The plate recognizer for video: plates are searched inside each vehicle box at 320 px (the
    box is small; the 640 px default spends four times the time to find the same plates)."""
    from anpr.detect import PlateDetector
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    return PlateRecognizer(
        reader=get_reader(reader), vehicle_detector=detector, plate_detector=PlateDetector(imgsz=320)
    )


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
        plate_first: bool | PlateFirst = True,
        quick_reads: bool = True,
        on_settled: Callable[[Track, PlateRead | None, float], None] | None = None,
        keep_evidence: Callable[[VehicleEvent], bool] | None = None,
        motion: bool = True,
        draw: bool = True,
    ):
        self.site, self.config = site, site.config
        self.recognizer, self.detector = recognizer, detector
        self.judge, self.evidence_dir = judge, evidence_dir
        # images are written for an event the judge finds nothing against too where this says so
        # (a section's camera keeps each vehicle it reads surely: challan.section)
        self.keep_evidence = keep_evidence
        self.region = region or site.config.site.plate_region  # None: the site file's
        # a track closes only once it can no longer be continued by a fragment
        self.min_track_frames, self.merge_gap_s = min_track_frames, merge_gap_s
        self.close_after_s = merge_gap_s + 0.1
        self.read_policy = reads or ReadPolicy()
        self.schedule = schedule or DetectionSchedule()
        self.plate_first = plate_first  # look for plates the vehicle detector found no vehicle around
        self.quick_reads = quick_reads  # rank crops with a small reader, read the best fully (anpr.reads)
        self.motion = motion  # spare the detector frames where nothing moves (anpr.motion)
        # draw the overlay (and judge tracks as they go, to draw them red); no video wants it from
        # a live camera, and drawing and judging so far cost 2-3 ms a frame
        self.draw = draw
        # told as soon as a track's read settles (its voted plate, the frame time): hotlist alerts
        # need not wait for the vehicle to leave the picture
        self.on_settled = on_settled
        signal = self.config.signal
        self.stop_line = StopLine(*signal.stop_line) if signal else None
        self.light = (
            LightObserver(signal.light_region) if signal and signal.light_region and not site.phases else None
        )
        self.timeline = self.light.timeline if self.light else SignalTimeline(site.phases or ())
        self.events = EventBuilder(site, self.timeline, self.region)
        self.annotator = SceneAnnotator(
            signal.stop_line if signal else None,
            self.config.calibration.image,
            signal.light_region if signal else None,
        )
        self.stats = {
            "frames": 0,
            "events": 0,
            "short_tracks": 0,
            "plate_reads": 0,
            "detections": 0,
            "plate_looks": 0,
        }
        self._alerts: set[int] = set()  # tracks the judge already finds against, as drawn

    def run(self, source: FrameSource) -> Iterator[ProcessedFrame]:
        if self.detector is None:
            self.detector = video_detector()
        if self.recognizer is None:
            self.recognizer = default_recognizer(detector=self.detector)
        self.fps, self.size = source.fps, source.size
        stride = self.schedule.stride(source.fps)
        # the tracker sees only the detection frames: its buffers count those
        self.tracker = VehicleTracker(fps=source.fps / stride, merge_gap_s=self.merge_gap_s)
        self.tracks = TrackBook(self.stop_line, source.size)
        quick = quick_reader(getattr(self.recognizer, "reader", None)) if self.quick_reads else None
        # full reads run beside the following frames (anpr.reads: taken a fixed number of frames later)
        self.reader = ReadScheduler(self.recognizer, self.read_policy, self.region, quick, background=True)
        try:
            yield from self._frames(source)
        finally:
            self.reader.close()

    def _frames(self, source: FrameSource) -> Iterator[ProcessedFrame]:
        stride = self.schedule.stride(source.fps)
        self.keys = KeyMoments(source.fps)
        # the detector is spared frames where nothing is tracked and nothing moved (anpr.motion)
        self.still = Stillness() if self.motion else None
        stand_ins = self.plate_first if isinstance(self.plate_first, PlateFirst) else None
        if self.plate_first is True:
            stand_ins = PlateFirst(every_s=self.schedule.plate_first_s)
        pending: ProcessedFrame | None = None  # held back one frame so the last one carries the flush
        detected: sv.Detections | None = None  # the last detection frame's tracked vehicles
        found: sv.Detections | None = None  # ... and what the detector found there
        # due by time, not by count: a live source may have thinned the frames (anpr.feed.Live)
        interval, due_s = stride / source.fps, -np.inf
        for frame in source:
            if pending is not None:
                yield pending
            self.keys.frame(frame.index, frame.image)
            signal = (
                self.light.observe(frame.image, frame.time_s)
                if self.light
                else self.timeline.state_at(frame.time_s)
            )
            if frame.time_s >= due_s - 0.25 / source.fps:
                busy = bool(self.tracks.open) or found is None or len(found) > 0
                spared = self.still is not None and not self.still.worth_detecting(
                    frame.image, frame.time_s, busy
                )
                if not spared:
                    found = self.detector.detect(frame.image)
                    self.stats["detections"] += 1
                else:  # nothing tracked or found, the picture unchanged: no detector would find anything
                    assert found is not None  # the first frame always runs the detector
                    found = cast(sv.Detections, found[np.zeros(len(found), dtype=np.bool_)])
                if stand_ins is not None and not spared:  # nor would the whole-frame plate look
                    tracked = self._carried(detected, frame.time_s).xyxy if detected is not None else None
                    real, follow = self._stand_ins_tracked(detected, tracked)
                    found = stand_ins.add(found, frame.image, frame.time_s, real, follow)
                detected = self.tracker.update_with_detections(found, frame.time_s)
                self._detection_frame(detected, frame.index, frame.time_s, frame.image)
                # a vehicle appearing: the next frame; one moving fast across the picture: sooner
                settling = self._settling(found, detected)
                due_s = frame.time_s + (
                    1 / source.fps if settling else self._motion_interval(detected, interval)
                )
                vehicles = detected
            else:
                assert detected is not None  # the first frame is always a detection frame
                vehicles = self._carried(detected, frame.time_s)
                if self.reader.in_zone:  # a plate in reading range: look at it in every frame
                    self._look(vehicles, frame.index, frame.time_s, frame.image)
            self._tell_settled(frame.time_s)
            image = (
                self._annotate(frame.image, vehicles, signal, frame.index, frame.time_s)
                if self.draw
                else frame.image
            )
            closed = [self._close(t) for t in self.tracks.expired(frame.time_s, self.close_after_s)]
            self.stats["frames"] += 1
            self.stats["plate_reads"], self.stats["plate_looks"] = self.reader.reads, self.reader.looks
            self.stats["plate_searches"] = self.reader.searched
            self.stats["plate_searches_near"] = self.reader.searched_near
            self.stats["detections_spared"] = self.still.skipped if self.still is not None else 0
            pending = ProcessedFrame(frame.index, frame.time_s, image, tuple(e for e in closed if e))
        if pending is not None:
            rest = tuple(e for e in (self._close(t) for t in list(self.tracks.open.values())) if e)
            yield replace(pending, events=pending.events + rest)

    def _detection_frame(self, vehicles: sv.Detections, index: int, time_s: float, image: np.ndarray) -> None:
        """Tracks, reads and key frames for the vehicles detected in this frame; the overlay's alerts."""
        seen = self.tracks.observe(vehicles, index, time_s, image)
        for s in seen:
            self.keys.seen(
                s.track.keyframes, s.track.box_at, index, image, vehicles.xyxy[s.row], s.crossed, s.clipped
            )
        self._offer(self.reader.read(vehicles, seen, image, index, time_s), index, image)
        if self.judge is not None and self.draw:  # findings so far, for the overlay only
            for s in seen:
                found = self.judge(self.events.provisional(s.track))
                (self._alerts.add if found else self._alerts.discard)(s.track.id)

    @staticmethod
    def _stand_ins_tracked(
        detected: sv.Detections | None, tracked: np.ndarray | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The tracked boxes of real vehicles (a stand-in's own box must not hide its plate from the
        plate-first look that feeds it), and those of the stand-ins."""
        if detected is None or tracked is None or PLATE_FIRST not in detected.data:
            return tracked, None
        stand_in = np.asarray(detected.data[PLATE_FIRST], dtype=np.bool_)
        return tracked[~stand_in], tracked[stand_in]

    def _tell_settled(self, time_s: float) -> None:
        settled, self.reader.just_settled = self.reader.just_settled, []
        if self.on_settled is not None:
            for track in settled:
                self.on_settled(track, vote_plate(track.reads, self.region), time_s)

    def _look(self, carried: sv.Detections, index: int, time_s: float, image: np.ndarray) -> None:
        """Between detections, plates in reading range are looked for inside their vehicles' boxes
        carried forward (widened by a tenth each side: the carried box is a prediction)."""
        assert carried.tracker_id is not None  # VehicleTracker sets ids on every result
        seen = [
            Sighting(self.tracks.open[int(t)], row, False, False)
            for row, t in enumerate(carried.tracker_id)
            if int(t) in self.reader.near and int(t) in self.tracks.open
        ]
        widened = cast(sv.Detections, carried[np.ones(len(carried), dtype=np.bool_)])  # a copy
        margin = (
            np.stack(
                [
                    -(w := carried.xyxy[:, 2] - carried.xyxy[:, 0]),
                    -(h := carried.xyxy[:, 3] - carried.xyxy[:, 1]),
                    w,
                    h,
                ],
                axis=1,
            )
            * 0.1
        )
        height, width = image.shape[:2]
        widened.xyxy = np.clip(carried.xyxy + margin, 0, [width, height, width, height])
        self._offer(self.reader.read(widened, seen, image, index, time_s), index, image)

    def _offer(self, plates, index: int, image: np.ndarray) -> None:
        """The key frames stage: the moment a plate is best seen is a candidate key frame."""
        for plate in plates:
            keys, read = plate.track.keyframes, plate.read
            if read.text and read.confidence > keys.score:
                self.keys.offer(
                    keys, plate.track.box_at, index, image, plate.vehicle_box, score=read.confidence
                )

    def _settling(self, found: sv.Detections, detected: sv.Detections) -> bool:
        """Whether to detect again on the very next frame: a vehicle just appeared (a confident box
        the tracker has not confirmed yet) or a track is still young. A new track's motion is not
        known until it has a few detections; detected only every few frames, a fast vehicle close
        to the camera moves too far between them to be matched and falls apart into short tracks."""
        confident = (
            int(np.sum(found.confidence >= SETTLED_SCORE)) if found.confidence is not None else len(found)
        )
        if confident > len(detected):
            return True
        assert detected.tracker_id is not None  # VehicleTracker sets ids on every result
        return any(len(self.tracks.open[int(t)].frames) < SETTLED_FRAMES for t in detected.tracker_id)

    def _motion_interval(self, detected: sv.Detections, interval: float) -> float:
        """How long until the next detection: the schedule's interval, shortened so that no track's
        box moves more than MAX_STEP of its height in between (a vehicle close to the camera crosses
        the picture fast; detected too far apart, its boxes no longer overlap and the tracker loses
        it or gives it to another vehicle)."""
        assert detected.tracker_id is not None  # VehicleTracker sets ids on every result
        shortest = interval
        for t in detected.tracker_id:
            track = self.tracks.open.get(int(t))
            if track is None or len(track.boxes) < 2 or track.times[-1] <= track.times[-2]:
                continue
            step = np.abs(track.boxes[-1] - track.boxes[-2]).max() / (track.times[-1] - track.times[-2])
            height = track.boxes[-1][3] - track.boxes[-1][1]
            if step > 0 and height > 0:
                shortest = min(shortest, MAX_STEP * height / step)
        return max(shortest, 1 / self.fps)

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
        track = self.tracks.open.get(track_id)
        if track is None or len(track.boxes) < 2 or track.times[-1] <= track.times[-2]:
            return detected.xyxy[row].astype(float)
        velocity = (track.boxes[-1] - track.boxes[-2]) / (track.times[-1] - track.times[-2])
        return track.boxes[-1] + velocity * (time_s - track.times[-1])

    def _annotate(
        self, image, vehicles: sv.Detections, signal: str | None, index: int, time_s: float
    ) -> np.ndarray:
        labels = []
        assert vehicles.tracker_id is not None  # VehicleTracker sets ids on every result
        for track_id in vehicles.tracker_id:
            track = self.tracks.open[int(track_id)]
            plate = vote_plate(track.reads, self.region)
            labels.append(
                track_label(
                    track.id,
                    vote_label(track.types, track.confidences) or "vehicle",
                    plate.text if plate else None,
                    self.events.live_speed(track),
                )
            )
        moment = self.site.start_time + timedelta(seconds=time_s)
        tenths = moment.microsecond // 100000
        banner = f"{self.site.id}  frame {index}  {moment:%Y-%m-%d %H:%M:%S}.{tenths}"
        return self.annotator.annotate(image, vehicles, labels, signal, banner, sorted(self._alerts))

    def _close(self, track: Track) -> JudgedEvent | None:
        self.reader.flush(track)
        self.tracks.close(track)
        self.tracker.merger.forget(track.id)
        self._alerts.discard(track.id)
        same = self._same_plate(track)
        if same is not None:  # one vehicle the tracker split in two: its later track goes on
            same.absorb(track)
            self.stats["joined_by_plate"] = self.stats.get("joined_by_plate", 0) + 1
            return None
        if len(track.frames) < self.min_track_frames:
            self.stats["short_tracks"] += 1
            return None
        event = self.events.close(track, list(self.tracks.open.values()))
        findings = tuple(self.judge(event)) if self.judge else ()
        keep = findings or (self.keep_evidence is not None and self.keep_evidence(event))
        if keep and self.evidence_dir is not None:
            event = replace(event, evidence=self._evidence(track, event, [f.code for f in findings]))
        self.stats["events"] += 1
        return JudgedEvent(event, findings)

    def _same_plate(self, track: Track) -> Track | None:
        """An open track, begun within merge_gap_s of this one's last sighting, whose plate reads as
        this one's does (a plausible read on both): the same vehicle, which the tracker lost and
        found again (a close-up the vehicle model sees only now and then)."""
        plate = vote_plate(track.reads, self.region)
        if plate is None or not plate.text:
            return None
        for other in self.tracks.open.values():
            if other.times[0] - track.times[-1] > self.merge_gap_s:
                continue
            theirs = vote_plate(other.reads, self.region)
            if theirs is not None and theirs.text == plate.text:
                return other
        return None

    def _evidence(self, track: Track, event: VehicleEvent, codes: list[str]):
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
