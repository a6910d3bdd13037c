"""The read scheduler: which tracked vehicles get their plate looked for and read, and when.

Reading is the costliest step: the reader's line models take about 150-300 ms a plate on 2 cores.
So every frame a plate is in reading range it is only *looked at*: found inside its vehicle's box
and read by one small line model (the CRNN pair, about 10 ms), which ranks the crops. The full
reader reads a track's best crop so far once the quick reads agree on a plausible text, and again
on a better crop until the track settles: two full reads agreeing, or one as sure as SURE. A track
that closes unsettled has its best crop not yet read fully read then (`flush`). Only full reads
vote: the quick reads never decide a plate, they choose which crops are worth reading.

With `background=True` (video) a full read runs in a thread of its own beside the frames that
follow, and its result is taken READ_LAG_FRAMES frames after it began, or when a track closes,
whatever the timing: a run gives the same events every time. Meanwhile its tracks are not looked
at (they wait for their read, as a settled track waits for nothing). The models' threads do not
fill both cores while the frame's own Python work runs; a full read then uses the idle core.

A plate box is the most confident one the plate detector finds inside the vehicle, and only where
it is plate-shaped for its vehicle: a box wider than `max_plate_share` of the vehicle's is the
vehicle itself, not its plate. Once found, a plate is looked for next only around where it was, moved
with its vehicle's box (`Sighted.region`): a region three plate widths wide, a quarter of the
detector's time on the whole vehicle. Where it is not found there, the whole vehicle is searched
again."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
import supervision as sv

from anpr.plates.unread import plausible
from anpr.tracks import Sighting, Track
from anpr.types import Box, PlateRead
from anpr.vote import settled

# A full read this sure settles a track alone: reads at 0.9 or more are at least 97 % right on the
# validation sets (docs/accuracy.md, the calibration table).
SURE = 0.9
# A full read begun in the background is taken this many frames later (a detection stride at 25 fps,
# less one: the detector's run and the frames' own work overlap the read)
READ_LAG_FRAMES = 3


@dataclass(frozen=True)
class ReadPolicy:
    """When a plate is worth reading: the vehicle box and the plate box wide enough to be legible,
    and the track not yet settled (settle_count agreeing full reads, or one at SURE) nor out of
    full reads (max_attempts)."""

    min_vehicle_px: int = 80
    min_plate_px: int = 40
    settle_count: int = 2
    max_attempts: int = 4
    # A plate this share of min_plate_px wide is coming into reading range: the reading zone starts
    near_share: float = 0.7
    max_plate_share: float = 0.6  # a "plate" wider than this share of its vehicle is not one
    # nor one this much narrower than it is high: every layout is wider than high, a square
    # motorcycle plate about as wide (the plate model gives 4x20 px slivers at a car's edge)
    min_plate_aspect: float = 0.8
    quick_agree: int = 2  # quick reads that agree on a plausible text before a full read


@dataclass
class Crop:
    """A plate crop waiting for the full reader, with its quick read and where it was seen."""

    image: np.ndarray
    quick: PlateRead
    box: tuple[float, ...]  # the plate box in the frame
    index: int

    @property
    def score(self) -> float:
        """Plausible quick reads first, then by the quick reader's confidence."""
        return self.quick.confidence + (1.0 if self.quick.text else 0.0)


@dataclass(frozen=True)
class Sighted:
    """Where a track's plate was last found: the frame's time, the plate's box and its vehicle's."""

    time_s: float
    plate: np.ndarray
    vehicle: np.ndarray

    # A plate is looked for around where it was for this long after it was last found (a stride of
    # the detection schedule and a frame more); the region spans REGION_WIDTHS plate widths across
    # and REGION_HEIGHT of one plate width down, centred where the plate has moved with its vehicle.
    FRESH_S = 0.25
    REGION_WIDTHS = 3.0
    REGION_HEIGHT = 1.5

    def region(self, vehicle: np.ndarray, time_s: float, size: tuple[int, int]) -> np.ndarray | None:
        """The region to search for the plate in a frame where its vehicle's box is `vehicle`
        (None: too long ago, or the region falls outside the frame of `size` (width, height))."""
        if not 0 <= time_s - self.time_s <= self.FRESH_S:
            return None
        then_w, then_h = self.vehicle[2] - self.vehicle[0], self.vehicle[3] - self.vehicle[1]
        now_w, now_h = vehicle[2] - vehicle[0], vehicle[3] - vehicle[1]
        if min(then_w, then_h, now_w, now_h) <= 0:
            return None
        centre = (self.plate[:2] + self.plate[2:]) / 2
        relative = (centre - self.vehicle[:2]) / (then_w, then_h)
        cx, cy = vehicle[:2] + relative * (now_w, now_h)
        plate_w = (self.plate[2] - self.plate[0]) * now_w / then_w
        half_w, half_h = plate_w * self.REGION_WIDTHS / 2, plate_w * self.REGION_HEIGHT / 2
        width, height = size
        box = np.array(
            [max(0, cx - half_w), max(0, cy - half_h), min(width, cx + half_w), min(height, cy + half_h)]
        )
        return box if box[2] - box[0] >= plate_w and box[3] - box[1] > 0 else None


@dataclass
class ReadState:
    """What the scheduler knows of one track's plate between frames."""

    quick: list[str] = field(default_factory=list)  # plausible quick texts since the last full read
    best: Crop | None = None  # the best crop not yet read fully
    read_score: float = -1.0  # the score of the best crop read fully so far
    sighted: Sighted | None = None  # where its plate was last found


@dataclass(frozen=True)
class PlateSighting:
    """A plate looked at on a track in this frame, with the vehicle's box (for the key frames stage)
    and the quick read's confidence (how well the plate is seen)."""

    track: Track
    read: PlateRead
    vehicle_box: np.ndarray


@dataclass(frozen=True, eq=False)
class PendingRead:
    """Full reads running in the background, one batch: taken at frame `due` (or sooner, at a close)."""

    tracks: list[Track]
    crops: list[Crop]
    result: Future
    due: int


class ReadScheduler:
    def __init__(self, recognizer, policy: ReadPolicy, region: str, quick=None, background: bool = False):
        self.recognizer, self.policy, self.region = recognizer, policy, region
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="full-read") if background else None
        self._pending: list[PendingRead] = []
        self.reading: set[int] = set()  # tracks whose full read runs in the background
        self.quick = quick  # a PlateReader that ranks crops; None: every crop is read fully
        self.reads = 0  # full reads so far
        self.looks = 0  # plates looked at (quick reads)
        self.searched = 0  # vehicles whose box the plate detector searched
        self.searched_near = 0  # ... of which only around where the plate was
        self.state: dict[int, ReadState] = {}
        # The tracks whose plate, in the last frame looked at, was in or coming into reading range
        # while unsettled: the processor looks at them again in the next frame (the reading zone is
        # brief for a vehicle close to the camera, and every frame in it counts).
        self.near: set[int] = set()
        self.settled: set[int] = set()  # tracks whose read has settled (or used its attempts)
        self.just_settled: list[Track] = []  # ... since the processor last took them

    @property
    def in_zone(self) -> bool:
        return bool(self.near)

    def wants(self, track: Track) -> bool:
        """Whether the track's plate is still worth looking at: full reads left, and no settled
        consensus among its plausible full reads (junk reads agreeing settle nothing); not while
        its full read runs."""
        if track.id in self.reading or len(track.reads) >= self.policy.max_attempts:
            return False
        recordable = [r for r in track.reads if plausible(r, self.region)]
        sure = any(r.confidence >= SURE for r in recordable)
        return not sure and not settled(recordable, self.policy.settle_count)

    def read(
        self,
        vehicles: sv.Detections,
        seen: list[Sighting],
        image: np.ndarray,
        index: int = 0,
        time_s: float | None = None,
    ) -> list[PlateSighting]:
        """Look for the plate of each wanted vehicle, quick-read it, and full-read the tracks whose
        quick reads agree. Returns the plates looked at (for the key frames stage). With the frame's
        `time_s`, a plate found a moment ago is looked for only around where it was."""
        from anpr.images import crop

        self._collect(index)
        self.near = set()
        widths = vehicles.xyxy[:, 2] - vehicles.xyxy[:, 0]
        wanted = np.zeros(len(vehicles), dtype=np.bool_)
        for sighting in seen:
            width = widths[sighting.row]
            wanted[sighting.row] = width >= self.policy.min_vehicle_px and self.wants(sighting.track)
        if not wanted.any():
            return []
        rows = np.flatnonzero(wanted)
        subset = cast(sv.Detections, vehicles[wanted])  # supervision types __getitem__ as a union
        by_row = {s.row: s.track for s in seen}
        tracks = [by_row[int(row)] for row in rows]
        regions = self._regions(tracks, subset.xyxy, time_s, image.shape)
        plates = self.recognizer.find_plates(image, subset, whole_frame=False, near=regions)
        self.searched += len(subset)
        self.searched_near += sum(r is not None for r in regions)
        subset_widths = subset.xyxy[:, 2] - subset.xyxy[:, 0]
        best = self._plate_of_each(plates, subset_widths)
        self._remember(tracks, best, plates.xyxy, subset.xyxy, time_s)
        near_px = self.policy.near_share * self.policy.min_plate_px
        widths_of = plates.xyxy[:, 2] - plates.xyxy[:, 0]
        self.near = {tracks[row].id for row, i in best.items() if widths_of[i] >= near_px}
        chosen = {row: i for row, i in best.items() if widths_of[i] >= self.policy.min_plate_px}

        if not chosen:
            return []
        from anpr.pipeline import PLATE_PAD

        crops = [crop(image, plates.xyxy[i], *PLATE_PAD) for i in chosen.values()]
        if self.quick is not None:
            looks = self.quick.read_batch(crops, self.region)
        else:
            looks = self.recognizer.read_crops(crops, self.region)
        self.looks += len(looks)
        found, due = [], []
        for (row, i), look, plate_crop in zip(chosen.items(), looks, crops, strict=True):
            track = tracks[row]
            box = tuple(float(v) for v in plates.xyxy[i])
            look = replace(look, box=box)
            found.append(PlateSighting(track, look, subset.xyxy[row]))
            if self.quick is None:  # no ranking reader: this read is the full read
                self._record(track, look, plate_crop)
                continue
            state = self.state.setdefault(track.id, ReadState())
            candidate = Crop(
                plate_crop.copy(),
                replace(look, text=look.text if plausible(look, self.region) else ""),
                box,
                index,
            )
            if candidate.score > (state.best.score if state.best else state.read_score):
                state.best = candidate
            if candidate.quick.text:
                state.quick.append(candidate.quick.text)
            if state.best is not None and _agree(state.quick, self.policy.quick_agree):
                due.append(track)
        self._read_fully(due, index)
        return found

    def flush(self, track: Track) -> None:
        """A track closing: its best crop not yet read fully is read now, if it still wants one
        (reads running in the background are taken first)."""
        self._collect()
        state = self.state.get(track.id)
        if self.quick is not None and state is not None and state.best is not None and self.wants(track):
            self._read_fully([track])
            self._collect()
        self.state.pop(track.id, None)
        self.settled.discard(track.id)

    def close(self) -> None:
        """Take every read still running and stop the background thread."""
        self._collect()
        if self._pool is not None:
            self._pool.shutdown()

    def _regions(
        self, tracks: list[Track], boxes: np.ndarray, time_s: float | None, shape: tuple
    ) -> list[np.ndarray | None]:
        """For each track, where to look for its plate: around where it was found a moment ago,
        or None (its vehicle's whole box)."""
        if time_s is None:
            return [None] * len(tracks)
        size = (shape[1], shape[0])
        regions: list[np.ndarray | None] = []
        for track, box in zip(tracks, boxes, strict=True):
            state = self.state.get(track.id)
            sighted = state.sighted if state is not None else None
            regions.append(sighted.region(box, time_s, size) if sighted is not None else None)
        return regions

    def _remember(
        self,
        tracks: list[Track],
        best: dict[int, int],
        plates: np.ndarray,
        vehicles: np.ndarray,
        time_s: float | None,
    ) -> None:
        """Where each track's plate was found in this frame; a plate not found is looked for in its
        vehicle's whole box next time."""
        for row, track in enumerate(tracks):
            state = self.state.setdefault(track.id, ReadState())
            found = best.get(row)
            state.sighted = (
                Sighted(time_s, plates[found].copy(), vehicles[row].copy())
                if found is not None and time_s is not None
                else None
            )

    def _plate_of_each(self, plates: sv.Detections, vehicle_widths: np.ndarray) -> dict[int, int]:
        """Subset row -> its plate: the most confident plate-shaped box inside it (no wider than
        max_plate_share of the vehicle, and at least min_plate_aspect as wide as it is high)."""
        from anpr.pipeline import VEHICLE_INDEX

        links = plates.data.get(VEHICLE_INDEX, np.full(len(plates), -1))
        confidence = plates.confidence if plates.confidence is not None else np.ones(len(plates))
        widths = plates.xyxy[:, 2] - plates.xyxy[:, 0]
        heights = plates.xyxy[:, 3] - plates.xyxy[:, 1]
        best: dict[int, int] = {}
        for i, row in enumerate(links):
            if row < 0 or widths[i] > self.policy.max_plate_share * vehicle_widths[row]:
                continue
            if widths[i] < self.policy.min_plate_aspect * heights[i]:  # a sliver, not a plate
                continue
            if row not in best or confidence[i] > confidence[best[row]]:
                best[int(row)] = i
        return best

    def _read_fully(self, tracks: list[Track], index: int = 0) -> None:
        """The full reader on each track's best unread crop, in one batch: now, or in the background
        (taken at frame index + READ_LAG_FRAMES)."""
        if not tracks:
            return
        states = [self.state[t.id] for t in tracks]
        crops = cast(list[Crop], [s.best for s in states])
        assert all(c is not None for c in crops)  # callers check
        for state, chosen in zip(states, crops, strict=True):
            state.read_score, state.best, state.quick = chosen.score, None, []
        images = [c.image for c in crops]
        if self._pool is None:
            self._take(tracks, crops, self.recognizer.read_crops(images, self.region))
            return
        result = self._pool.submit(self.recognizer.read_crops, images, self.region)
        self._pending.append(PendingRead(tracks, crops, result, index + READ_LAG_FRAMES))
        self.reading.update(t.id for t in tracks)

    def _collect(self, index: int | None = None) -> None:
        """Take the background reads due by frame `index` (None: all), in the order they began."""
        due, self._pending = (
            [p for p in self._pending if index is None or p.due <= index],
            [p for p in self._pending if index is not None and p.due > index],
        )
        for pending in due:
            reads = pending.result.result()
            self.reading.difference_update(t.id for t in pending.tracks)
            self._take(pending.tracks, pending.crops, reads)

    def _take(self, tracks: list[Track], crops: list[Crop], reads: list[PlateRead]) -> None:
        for track, chosen, read in zip(tracks, crops, reads, strict=True):
            self._record(track, replace(read, box=cast(Box, chosen.box)), chosen.image)

    def _record(self, track: Track, read: PlateRead, plate_crop: np.ndarray) -> None:
        self.reads += 1
        track.reads.append(read)
        if read.text and read.confidence > track.crops.get(read.text, (-1.0, None))[0]:
            track.crops[read.text] = (read.confidence, plate_crop.copy())
        if not self.wants(track) and track.id not in self.settled:
            self.settled.add(track.id)
            self.just_settled.append(track)


def _agree(texts: list[str], count: int) -> bool:
    """Whether the last `count` texts are one."""
    return len(texts) >= count and len(set(texts[-count:])) == 1


QUICK_MODEL = "plate-reader-crnn"


def quick_reader(full_reader) -> object | None:
    """The reader that ranks crops for `full_reader`: the committed CRNN pair alone, read as given
    (no levelling); None where the full reader is not the trained one or the manifest has no CRNN
    pair (every crop is then read fully)."""
    from functools import partial

    from anpr.ocr.crnn import CrnnReader, model_input, onnx_log_probs
    from anpr.weights import load_manifest, weight_path

    if not isinstance(full_reader, CrnnReader) or QUICK_MODEL not in load_manifest():
        return None
    return CrnnReader(
        log_probs=onnx_log_probs(partial(weight_path, QUICK_MODEL)), prepare=model_input, level=False
    )
