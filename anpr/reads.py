"""The read scheduler: which tracked vehicles get their plate looked for and read in a detection
frame. Reading is the costliest step, so a vehicle is read only when it is near enough to carry a
legible plate, and only until its track has a settled consensus or has used its attempts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import supervision as sv

from anpr.plates.unread import plausible
from anpr.tracks import Sighting, Track
from anpr.types import PlateRead
from anpr.vote import settled


@dataclass(frozen=True)
class ReadPolicy:
    """When a plate is worth reading: the vehicle box and the plate box wide enough to be legible,
    and the track not yet settled (settle_count agreeing reads) nor out of attempts."""

    min_vehicle_px: int = 80
    min_plate_px: int = 50
    settle_count: int = 3
    max_attempts: int = 10
    # A plate this share of min_plate_px wide is coming into reading range: the reading zone starts
    near_share: float = 0.7


@dataclass(frozen=True)
class PlateSighting:
    """A plate read on a track in this frame, with the vehicle's box (for the key frames stage)."""

    track: Track
    read: PlateRead
    vehicle_box: np.ndarray


class ReadScheduler:
    def __init__(self, recognizer, policy: ReadPolicy, region: str):
        self.recognizer, self.policy, self.region = recognizer, policy, region
        self.reads = 0  # plates read so far
        # In the last frame read, an unsettled track's plate was in or coming into reading range:
        # the detection schedule looks again at the next frame (the reading zone is brief for a
        # vehicle close to the camera, and every frame in it counts).
        self.in_zone = False

    def wants(self, track: Track) -> bool:
        """Whether the track's plate is still worth reading: attempts left, and no settled consensus
        among its plausible reads (three junk reads of a grille agreeing settle nothing)."""
        if len(track.reads) >= self.policy.max_attempts:
            return False
        recordable = [r for r in track.reads if plausible(r, self.region)]
        return not settled(recordable, self.policy.settle_count)

    def read(self, vehicles: sv.Detections, seen: list[Sighting], image: np.ndarray) -> list[PlateSighting]:
        """Find and read the plate of each wanted vehicle (one plate per vehicle, the widest); the
        reads and the best crop per text go onto the tracks."""
        from anpr.images import crop
        from anpr.pipeline import PLATE_PAD, VEHICLE_INDEX

        self.in_zone = False
        widths = vehicles.xyxy[:, 2] - vehicles.xyxy[:, 0]
        wanted = np.zeros(len(vehicles), dtype=np.bool_)
        for sighting in seen:
            wanted[sighting.row] = widths[sighting.row] >= self.policy.min_vehicle_px and self.wants(
                sighting.track
            )
        if not wanted.any():
            return []
        rows = np.flatnonzero(wanted)
        subset = cast(sv.Detections, vehicles[wanted])  # supervision types __getitem__ as a union
        plates = self.recognizer.find_plates(image, subset, whole_frame=False)
        links = plates.data.get(VEHICLE_INDEX, np.full(len(plates), -1))
        best: dict[int, int] = {}  # subset row -> its widest plate box
        for i, row in enumerate(links):
            width = plates.xyxy[i, 2] - plates.xyxy[i, 0]
            self.in_zone |= bool(row >= 0 and width >= self.policy.near_share * self.policy.min_plate_px)
            wider = row not in best or width > plates.xyxy[best[row], 2] - plates.xyxy[best[row], 0]
            if row >= 0 and width >= self.policy.min_plate_px and wider:
                best[int(row)] = i
        if not best:
            return []
        crops = [crop(image, plates.xyxy[i], *PLATE_PAD) for i in best.values()]
        reads = self.recognizer.read_crops(crops, self.region)
        self.reads += len(reads)
        by_row = {s.row: s.track for s in seen}
        found = []
        for (row, i), read, plate_crop in zip(best.items(), reads, crops, strict=True):
            track = by_row[int(rows[row])]
            read = replace(read, box=tuple(float(v) for v in plates.xyxy[i]))
            track.reads.append(read)
            if read.text and read.confidence > track.crops.get(read.text, (-1.0, None))[0]:
                track.crops[read.text] = (read.confidence, plate_crop.copy())
            found.append(PlateSighting(track, read, subset.xyxy[row]))
        return found
