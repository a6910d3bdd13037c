"""How plates are found and linked to vehicles: hand-built boxes through fake detectors (the
geometry does not depend on the models), plus the shipped detectors' box convention; junk reads
through a scripted reader."""

import numpy as np
import supervision as sv

from anpr.detect import Detector, scale_boxes
from anpr.ocr.base import PlateReader
from anpr.pipeline import VEHICLE_INDEX, PlateRecognizer, _containing
from anpr.plates.unread import UNREAD_FLOOR
from anpr.types import Candidate, PlateRead


class BoxesByShape(Detector):
    """Returns the boxes registered for an image of a given shape (whole frame vs a vehicle crop)."""

    def __init__(self, by_shape: dict[tuple[int, int], list[list[float]]]):
        self.by_shape = by_shape
        self.calls: list[tuple[int, int]] = []

    def detect(self, image):
        self.calls.append(image.shape[:2])
        boxes = self.by_shape.get(image.shape[:2], [])
        if not boxes:
            return sv.Detections.empty()
        return sv.Detections(xyxy=np.array(boxes, dtype=np.float32), confidence=np.full(len(boxes), 0.9))


def recognizer(plates: BoxesByShape) -> PlateRecognizer:
    return PlateRecognizer(reader=object(), vehicle_detector=BoxesByShape({}), plate_detector=plates)


VEHICLES = sv.Detections(xyxy=np.array([[100, 100, 300, 250], [400, 120, 440, 150]], dtype=np.float32))


def test_plates_found_inside_a_vehicle_are_moved_back_to_frame_coordinates():
    image = np.zeros((480, 640, 3), np.uint8)
    plates = BoxesByShape({(150, 200): [[80, 100, 120, 115]]})  # inside the first vehicle's crop
    found = recognizer(plates).find_plates(image, VEHICLES)
    assert found.xyxy.tolist() == [[180, 200, 220, 215]]
    assert found.data[VEHICLE_INDEX].tolist() == [0]
    # The whole frame once, then only the vehicle big enough to carry a legible plate.
    assert plates.calls == [(480, 640), (150, 200)]


def test_video_skips_the_whole_frame_pass_and_duplicates_are_merged():
    image = np.zeros((480, 640, 3), np.uint8)
    plates = BoxesByShape({(480, 640): [[181, 200, 221, 215]], (150, 200): [[80, 100, 120, 115]]})
    assert len(recognizer(plates).find_plates(image, VEHICLES)) == 1  # same plate twice -> one
    plates.calls.clear()
    found = recognizer(plates).find_plates(image, VEHICLES, whole_frame=False)
    assert plates.calls == [(150, 200)] and len(found) == 1


def test_a_plate_links_to_the_smallest_vehicle_containing_its_centre():
    plates = np.array([[150, 200, 190, 210], [410, 130, 420, 135], [600, 400, 620, 410]], dtype=float)
    vehicles = np.array([[0, 0, 640, 480], [100, 100, 300, 250], [400, 120, 440, 150]], dtype=float)
    assert _containing(plates, vehicles).tolist() == [1, 2, 0]
    assert _containing(plates, np.empty((0, 4))).tolist() == [-1, -1, -1]


def test_detector_boxes_are_shrunk_about_their_centre():
    boxes = np.array([[0, 0, 100, 40]], dtype=np.float32)
    assert scale_boxes(boxes, 0.9, 0.75).tolist() == [[5, 5, 95, 35]]


class ScriptedReader(PlateReader):
    """Reads the crops it is given as the script says, in order (a read per plate box)."""

    def __init__(self, *reads: tuple[str, float]):
        self.reads = [
            PlateRead(text, confidence, (Candidate(text, confidence),)) for text, confidence in reads
        ]

    def read(self, crop, region="auto"):
        return self.reads.pop(0)


# A real plate beside the kind of junk a second car at the photo's edge produced (issue #25).
JUNK = (("0", 0.31), ("L0", UNREAD_FLOOR / 3), ("PJ", UNREAD_FLOOR / 5), ("C", 0.2))
PLATE_BOXES = [
    [10, 10, 60, 30],
    [100, 10, 150, 30],
    [200, 10, 250, 30],
    [300, 10, 350, 30],
    [400, 10, 450, 30],
]


def test_a_photos_junk_reads_come_back_unread_with_their_boxes():
    plates = BoxesByShape({(480, 640): PLATE_BOXES})
    reader = ScriptedReader(("LEH5789", 0.97), *JUNK)
    recognizer = PlateRecognizer(reader=reader, vehicle_detector=BoxesByShape({}), plate_detector=plates)
    result = recognizer.read_image(np.zeros((480, 640, 3), np.uint8), "auto")
    assert [p.text for p in result.plates] == ["LEH5789", "", "", "", ""]
    assert [p.box for p in result.plates] == [tuple(map(float, box)) for box in PLATE_BOXES]
    assert [p.confidence for p in result.plates[1:]] == [c for _, c in JUNK]


def test_a_plate_crop_that_reads_as_junk_is_one_unread_plate():
    recognizer = PlateRecognizer(
        reader=ScriptedReader(("T", 0.0056)), vehicle_detector=object(), plate_detector=object()
    )
    plate = recognizer.read_plate_image(np.zeros((40, 120, 3), np.uint8), "pk")
    assert (plate.text, plate.confidence, plate.box) == ("", 0.0056, (0.0, 0.0, 120.0, 40.0))


def test_a_part_of_a_vehicle_is_not_a_second_vehicle():
    """Training clip 3's RK300AG: the vehicle model also boxed the car's right rear (a car at 0.1-0.5)
    inside the whole car (0.7-0.86); NMS at IoU 0.6 kept both, and the part became a second event."""
    from anpr.detect import without_parts

    def boxes(rows):
        xyxy, confidence, class_id = zip(*rows, strict=True)
        return sv.Detections(
            xyxy=np.array(xyxy, np.float32), confidence=np.array(confidence), class_id=np.array(class_id)
        )

    car, bus, motorcycle = 2, 5, 3
    whole, rear = ([1117, 848, 1431, 1073], 0.84, car), ([1355, 850, 1438, 964], 0.45, car)
    assert without_parts(boxes([whole, rear])).xyxy.tolist() == [whole[0]]
    # a motorcycle in front of a bus is inside its box, but not a part of it
    in_front = ([1200, 900, 1260, 1000], 0.4, motorcycle)
    kept = without_parts(boxes([([1000, 700, 1500, 1070], 0.9, bus), in_front]))
    assert len(kept) == 2
    # nor is a box more confident than the larger one round it (the larger may be the mistake)
    assert (
        len(without_parts(boxes([([1117, 848, 1431, 1073], 0.3, car), ([1355, 850, 1438, 964], 0.6, car)])))
        == 2
    )
    # a box only partly inside (less than 0.8 of it) is another vehicle beside or behind
    beside = ([1380, 850, 1500, 964], 0.45, car)
    assert len(without_parts(boxes([whole, beside]))) == 2
