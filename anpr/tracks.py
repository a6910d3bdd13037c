"""The tracks stage: what each tracked vehicle was seen doing, one detection frame at a time (box,
type, colour, whether its ground point is usable), and when its ground point crossed the stop line.
A track is the unit every later stage works on: the read scheduler adds its plate reads, the key
frames stage its evidence frames, and the event stage turns it into one VehicleEvent when it closes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import supervision as sv

from anpr import speed as sp
from anpr.evidence import KeyFrames
from anpr.signal import StopLine
from anpr.track import vehicle_colour
from anpr.types import PlateRead

VEHICLE_TYPE = "vehicle_type"
PLATE_FIRST = "plate_first"  # Detections.data field: a stand-in box around a plate (anpr.platefirst)


@dataclass
class Track:
    id: int
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)  # the ground point is not the vehicle's
    types: list[str] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    colours: list[str | None] = field(default_factory=list)
    reads: list[PlateRead] = field(default_factory=list)
    crops: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)  # best crop per text
    crossing_s: float | None = None
    last_ground: tuple[float, float, float] | None = None  # time and last usable bottom-centre (image)
    keyframes: KeyFrames = field(default_factory=KeyFrames)
    last_image: np.ndarray | None = None

    def box_at(self, frame: int):
        return tuple(self.boxes[self.frames.index(frame)]) if frame in self.frames else None

    def absorb(self, other: Track) -> None:
        """Take in another track of the same vehicle (an earlier fragment the tracker could not
        join): its detections in time order, its reads and crops, its crossing, and its key
        frames where they are the better ones."""
        rows = sorted(
            zip(
                self.times + other.times,
                self.frames + other.frames,
                self.boxes + other.boxes,
                self.clipped + other.clipped,
                self.types + other.types,
                self.confidences + other.confidences,
                self.colours + other.colours,
                strict=True,
            ),
            key=lambda row: (row[0], row[1]),
        )
        columns = list(zip(*rows, strict=True))
        self.times, self.frames, self.boxes, self.clipped = (list(c) for c in columns[:4])
        self.types, self.confidences, self.colours = (list(c) for c in columns[4:])
        self.reads = other.reads + self.reads
        for text, (confidence, crop) in other.crops.items():
            if confidence > self.crops.get(text, (-1.0, None))[0]:
                self.crops[text] = (confidence, crop)
        crossings = [t for t in (self.crossing_s, other.crossing_s) if t is not None]
        self.crossing_s = min(crossings) if crossings else None
        mine, theirs = self.keyframes, other.keyframes
        if (theirs.locked and not mine.locked) or (
            theirs.locked == mine.locked and theirs.score > mine.score
        ):
            self.keyframes = theirs


@dataclass(frozen=True)
class Sighting:
    """One track seen in one detection frame: its row in the frame's detections, and whether its
    ground point crossed the stop line since the frame before."""

    track: Track
    row: int
    crossed: bool
    clipped: bool  # the box is cut by the frame's sides or bottom: its ground point is not usable


class TrackBook:
    """The open tracks, by id."""

    def __init__(self, stop_line: StopLine | None, frame_size: tuple[int, int]):
        self.stop_line, self.frame_size = stop_line, frame_size
        self.open: dict[int, Track] = {}

    def observe(
        self, vehicles: sv.Detections, index: int, time_s: float, image: np.ndarray
    ) -> list[Sighting]:
        """Add a detection frame's tracked vehicles to their tracks."""
        clipped = sp.ground_clipped(vehicles.xyxy, self.frame_size)
        if PLATE_FIRST in vehicles.data:  # a stand-in box's bottom is not where a vehicle meets the road
            clipped = clipped | np.asarray(vehicles.data[PLATE_FIRST], dtype=np.bool_)
        assert vehicles.tracker_id is not None  # VehicleTracker sets ids on every result
        seen = []
        for row, track_id in enumerate(vehicles.tracker_id):
            track = self.open.setdefault(int(track_id), Track(int(track_id)))
            box = vehicles.xyxy[row].astype(float)
            track.frames.append(index)
            track.times.append(time_s)
            track.boxes.append(box)
            track.clipped.append(bool(clipped[row]))
            types = vehicles.data.get(VEHICLE_TYPE)
            track.types.append(str(types[row]) if types is not None else "unknown")
            track.confidences.append(
                float(vehicles.confidence[row]) if vehicles.confidence is not None else 1.0
            )
            x1, y1, x2, y2 = box.astype(int)
            track.colours.append(vehicle_colour(image[max(0, y1) : y2, max(0, x1) : x2]))
            track.last_image = image
            crossed = not clipped[row] and self._crossed(track, box, time_s)
            seen.append(Sighting(track, row, crossed, bool(clipped[row])))
        return seen

    def _crossed(self, track: Track, box: np.ndarray, time_s: float) -> bool:
        """Note the ground point; True when this step took it across the stop line (the crossing's
        time interpolated between the two detections either side)."""
        point = tuple(sp.bottom_centres(box)[0])
        crossed = False
        if self.stop_line and track.crossing_s is None and track.last_ground is not None:
            frac = self.stop_line.crossing(track.last_ground[1:], point)
            if frac is not None:
                previous_t = track.last_ground[0]
                track.crossing_s = previous_t + frac * (time_s - previous_t)
                crossed = True
        track.last_ground = (time_s, float(point[0]), float(point[1]))
        return crossed

    def expired(self, time_s: float, after_s: float) -> list[Track]:
        """Tracks not seen for more than `after_s` seconds."""
        return [t for t in self.open.values() if time_s - t.times[-1] > after_s]

    def close(self, track: Track) -> Track:
        return self.open.pop(track.id)
