"""How plates are found and linked to vehicles: hand-built boxes through fake detectors (the
geometry does not depend on the models), plus the shipped detectors' box convention."""

import numpy as np
import supervision as sv

from anpr.detect import Detector, scale_boxes
from anpr.pipeline import VEHICLE_INDEX, PlateRecognizer, _containing


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
