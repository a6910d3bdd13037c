"""Photos in, plate reads out: detect vehicles, find plates (in the whole frame and again inside each
vehicle at higher resolution), link each plate to its vehicle, read it. The components are passed
in, so the trained recognizer, RapidOCR or EasyOCR can stand behind the same pipeline. Every read of
a photo is checked (anpr.plates.unread): one that fits no layout of the region, or falls under the
unread floor, comes back unread (empty text, its box and confidence kept)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import supervision as sv

from anpr.detect import VEHICLE_TYPE, Detector, PlateDetector, VehicleDetector, detect_in_boxes
from anpr.images import crop
from anpr.ocr import get_reader
from anpr.ocr.base import PlateReader
from anpr.plates.unread import checked
from anpr.types import PlateRead, VehicleSighting

VEHICLE_INDEX = "vehicle_index"  # Detections.data field on plates: row of the vehicle, -1 if none
PLATE_PAD = (0.04, 0.08)  # margin around a detected plate; best on the openalpr-dev training split
MIN_VEHICLE_SIDE = 48  # smaller vehicles carry no legible plate
# No camera frame is this small, but a plate cropped from one is: `anpr read` reads such an image
# whole when it finds no plate in it (the detector misses plates that fill a tiny image).
PLATE_CROP_MAX = (320, 240)  # width, height in pixels
# Video looks again where a plate was a moment ago (anpr.reads): a region about three plate widths
# wide is searched at this input size (the plate about 64 px wide in it, as in a vehicle's crop at
# 320), a quarter of the pixels of the vehicle's whole box.
NEAR_INPUT = 192


@dataclass(frozen=True)
class ImageResult:
    plates: list[PlateRead]
    vehicles: list[VehicleSighting]
    plate_vehicle: list[int]  # for each plate, the index of its vehicle in `vehicles`, or -1
    read_whole: bool = False  # no plate was found, and the image was read whole as a plate crop


class PlateRecognizer:
    def __init__(
        self,
        reader: PlateReader | None = None,
        vehicle_detector: Detector | None = None,
        plate_detector: Detector | None = None,
        search_in_vehicles: bool = True,
    ):
        self.reader = reader or get_reader("auto")
        self.vehicle_detector = vehicle_detector or VehicleDetector()
        self.plate_detector = plate_detector or PlateDetector()
        self.search_in_vehicles = search_in_vehicles

    def find_plates(
        self,
        image: np.ndarray,
        vehicles: sv.Detections,
        whole_frame: bool = True,
        near: Sequence[np.ndarray | None] = (),
    ) -> sv.Detections:
        """Plate boxes in image coordinates, each linked to the vehicle that contains its centre.
        Video passes whole_frame=False: a plate outside every tracked vehicle is of no use there.
        `near` gives, for a vehicle row, a region where its plate is expected (anpr.reads): that
        region alone is searched, at NEAR_INPUT, instead of the vehicle's whole box."""
        found = [self.plate_detector.detect(image)] if whole_frame else []
        if self.search_in_vehicles:
            regions = [near[row] if row < len(near) else None for row in range(len(vehicles))]
            pairs = zip(vehicles.xyxy, regions, strict=True)
            whole = [box for box, region in pairs if region is None and _big_enough(box)]
            found += self._plates_inside(image, whole)
            found += self._plates_inside(image, [r for r in regions if r is not None], NEAR_INPUT)
        found = [d for d in found if len(d)]
        plates = sv.Detections.merge(found) if found else sv.Detections.empty()
        if len(plates) > 1:
            plates = plates.with_nms(threshold=0.4, class_agnostic=True)
        plates.data[VEHICLE_INDEX] = _containing(plates.xyxy, vehicles.xyxy)
        return plates

    def _plates_inside(
        self, image: np.ndarray, boxes: list[np.ndarray], imgsz: int | None = None
    ) -> list[sv.Detections]:
        """The plate detector run on each box's crop, in one batch: a small vehicle is upscaled
        to the model's input size, which finds plates the whole-frame pass is too coarse to see."""
        return detect_in_boxes(self.plate_detector, image, boxes, imgsz)

    def read_crops(self, crops: list[np.ndarray], region: str = "auto") -> list[PlateRead]:
        """The reader's own reads, unchecked: a video track's reads are checked when they vote."""
        return self.reader.read_batch(crops, region)

    def read_image(self, image: np.ndarray, region: str = "auto") -> ImageResult:
        vehicles = self.vehicle_detector.detect(image)
        plates = self.find_plates(image, vehicles)
        crops = [crop(image, box, *PLATE_PAD) for box in plates.xyxy]
        reads = [
            checked(replace(read, box=_floats(box)), region)
            for read, box in zip(self.read_crops(crops, region), plates.xyxy, strict=True)
        ]
        links = [int(i) for i in plates.data[VEHICLE_INDEX]]
        sightings = []
        for index, box in enumerate(vehicles.xyxy):
            assert vehicles.confidence is not None  # detectors always score their boxes
            plate = next((reads[p] for p, v in enumerate(links) if v == index), None)
            sightings.append(
                VehicleSighting(
                    box=_floats(box),
                    vehicle_type=str(vehicles.data[VEHICLE_TYPE][index]),
                    confidence=float(vehicles.confidence[index]),
                    plate=plate,
                )
            )
        return ImageResult(plates=reads, vehicles=sightings, plate_vehicle=links)

    def read_photo(self, image: np.ndarray, region: str = "auto") -> ImageResult:
        """`read_image`, except that an image that could be a plate crop (`could_be_plate_crop`) and
        in which no plate is found is read whole as one plate, linked to no vehicle."""
        result = self.read_image(image, region)
        if result.plates or not could_be_plate_crop(image):
            return result
        plate = self.read_plate_image(image, region)
        return replace(result, plates=[plate], plate_vehicle=[-1], read_whole=True)

    def read_plate_image(self, image: np.ndarray, region: str = "auto") -> PlateRead:
        """The whole image is one plate (already cropped); checked, so possibly unread."""
        height, width = image.shape[:2]
        read = self.reader.read(image, region)
        return checked(replace(read, box=(0.0, 0.0, float(width), float(height))), region)


def could_be_plate_crop(image: np.ndarray) -> bool:
    """Whether an image is small and shaped enough to be a plate already cropped (a plate is wider
    than high, a motorcycle's about square): within PLATE_CROP_MAX."""
    height, width = image.shape[:2]
    return width <= PLATE_CROP_MAX[0] and height <= PLATE_CROP_MAX[1] and width >= 0.8 * height


def _floats(box: np.ndarray) -> tuple[float, float, float, float]:
    """An xyxy box row as four plain floats."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return x1, y1, x2, y2


def _big_enough(box: np.ndarray) -> bool:
    return min(box[2] - box[0], box[3] - box[1]) >= MIN_VEHICLE_SIDE


def _containing(plates: np.ndarray, vehicles: np.ndarray) -> np.ndarray:
    """For each plate box, the smallest vehicle box containing its centre (-1 when none)."""
    links = np.full(len(plates), -1, dtype=int)
    if not len(plates) or not len(vehicles):
        return links
    cx, cy = (plates[:, 0] + plates[:, 2]) / 2, (plates[:, 1] + plates[:, 3]) / 2
    areas = (vehicles[:, 2] - vehicles[:, 0]) * (vehicles[:, 3] - vehicles[:, 1])
    for i in range(len(plates)):
        inside = (
            (vehicles[:, 0] <= cx[i])
            & (cx[i] <= vehicles[:, 2])
            & (vehicles[:, 1] <= cy[i])
            & (cy[i] <= vehicles[:, 3])
        )
        if inside.any():
            candidates = np.flatnonzero(inside)
            links[i] = int(candidates[np.argmin(areas[candidates])])
    return links
