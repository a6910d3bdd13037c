"""Plate-first vehicles: a vehicle the vehicle detector misses but whose plate is in view still
becomes a track. A camera zoomed on one lane sees bumper and plate fill the view, and the COCO
vehicle model, trained on whole vehicles, may not fire on such a close-up; the plate model does.

About twice a second of footage the plate detector looks at the whole frame; each confident plate,
wide enough to read, that lies inside no detected vehicle becomes a stand-in vehicle box around it
(type "unknown") that joins the frame's vehicle detections and is tracked, read and closed into an
event like any other. The vehicle detector never sees a stand-in, so from its first sighting until
its track ends the plate detector looks for it on every detection frame, inside its box (`follow`):
otherwise the tracker, which confirms a track at its second sighting, never got one, and a close-up
crossing the picture in two seconds was no event at all. Its box is the plate's surroundings, not
the vehicle's: the tracks stage takes no ground point from it (no speed, no stop-line crossing),
only the plate, the times and the evidence."""

from __future__ import annotations

import numpy as np
import supervision as sv

from anpr.tracks import PLATE_FIRST, VEHICLE_TYPE

# Between the whole-frame looks a stand-in is looked for inside its box at this input size (as a
# vehicle's plate is: anpr.process.default_recognizer), not in the whole frame at 640
AROUND_INPUT = 320


class PlateFirst:
    def __init__(
        self,
        plate_detector=None,
        every_s: float = 0.5,
        min_confidence: float = 0.4,
        min_plate_px: int = 50,
        around: tuple[float, float, float] = (1.5, 3.0, 1.0),
    ):
        if plate_detector is None:
            from anpr.detect import PlateDetector

            plate_detector = PlateDetector()  # 640 px over the whole frame
        self.detector, self.every_s = plate_detector, every_s
        self.min_confidence, self.min_plate_px = min_confidence, min_plate_px
        # the stand-in box: plate widths to each side, plate widths above, plate heights below
        self.around = around
        self._due_s = -np.inf
        self._fresh = np.zeros((0, 4))  # stand-ins added at the last look: looked for at the next

    def add(
        self,
        vehicles: sv.Detections,
        image: np.ndarray,
        time_s: float,
        tracked: np.ndarray | None = None,
        follow: np.ndarray | None = None,
    ) -> sv.Detections:
        """`vehicles` with a stand-in box for each plate outside them and outside the boxes of the
        vehicles already tracked (`tracked`, where they are now: stand-ins' own tracks excluded).
        The whole frame is looked at every `every_s`; in between, only around the stand-ins
        followed (`follow`: the open stand-in tracks' boxes, where they are now) and those just
        added."""
        followed = np.zeros((0, 4)) if follow is None else np.asarray(follow, float).reshape(-1, 4)
        around = np.concatenate([followed, self._fresh])
        if time_s >= self._due_s:
            self._due_s = time_s + self.every_s
            plates = self.detector.detect(image)
        elif len(around):
            plates = self._around(image, around)
        else:
            return _marked(vehicles, False)
        claimed = (
            vehicles.xyxy if tracked is None else np.concatenate([vehicles.xyxy, tracked.reshape(-1, 4)])
        )
        keep = self._unclaimed(plates, claimed)
        if not keep.any():
            self._fresh = np.zeros((0, 4))
            return _marked(vehicles, False)
        boxes = self._stand_ins(plates.xyxy[keep], image.shape[1], image.shape[0])
        self._fresh = boxes
        confidence = plates.confidence[keep] if plates.confidence is not None else np.ones(len(boxes))
        stand_ins = sv.Detections(
            xyxy=boxes,
            confidence=confidence.astype(float),
            class_id=np.full(len(boxes), -1),
            data=_unknown_like(vehicles.data, len(boxes)),
        )
        return sv.Detections.merge([_marked(vehicles, False), _marked(stand_ins, True)])

    def _around(self, image: np.ndarray, boxes: np.ndarray) -> sv.Detections:
        """Plates in the stand-in boxes widened by a quarter each side (the vehicle has moved since),
        searched in one batch at AROUND_INPUT, in image coordinates."""
        from anpr.detect import detect_in_boxes

        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        widened = np.stack(
            [boxes[:, 0] - w / 4, boxes[:, 1] - h / 4, boxes[:, 2] + w / 4, boxes[:, 3] + h / 4], axis=1
        )
        found = [d for d in detect_in_boxes(self.detector, image, widened, AROUND_INPUT) if len(d)]
        plates = sv.Detections.merge(found) if found else sv.Detections.empty()
        # a stand-in just added is also followed once tracked: the same plate found in both boxes
        return plates.with_nms(threshold=0.4, class_agnostic=True) if len(plates) > 1 else plates

    def _unclaimed(self, plates: sv.Detections, vehicles: np.ndarray) -> np.ndarray:
        """Confident plates wide enough to read whose centre lies in no vehicle box."""
        if not len(plates):
            return np.zeros(0, dtype=np.bool_)
        conf = plates.confidence if plates.confidence is not None else np.ones(len(plates))
        widths = plates.xyxy[:, 2] - plates.xyxy[:, 0]
        cx, cy = (plates.xyxy[:, 0] + plates.xyxy[:, 2]) / 2, (plates.xyxy[:, 1] + plates.xyxy[:, 3]) / 2
        inside = np.zeros(len(plates), dtype=np.bool_)
        for x1, y1, x2, y2 in np.asarray(vehicles).reshape(-1, 4):
            inside |= (x1 <= cx) & (cx <= x2) & (y1 <= cy) & (cy <= y2)
        return (conf >= self.min_confidence) & (widths >= self.min_plate_px) & ~inside

    def _stand_ins(self, plates: np.ndarray, width: int, height: int) -> np.ndarray:
        side, above, below = self.around
        w, h = plates[:, 2] - plates[:, 0], plates[:, 3] - plates[:, 1]
        boxes = np.stack(
            [
                plates[:, 0] - side * w,
                plates[:, 1] - above * w,
                plates[:, 2] + side * w,
                plates[:, 3] + below * h,
            ],
            axis=1,
        )
        return np.clip(boxes, 0, [width - 1, height - 1, width - 1, height - 1]).astype(float)


def _marked(detections: sv.Detections, plate_first: bool) -> sv.Detections:
    detections.data[PLATE_FIRST] = np.full(len(detections), plate_first, dtype=np.bool_)
    return detections


def _unknown_like(data: dict, n: int) -> dict:
    """Data fields for `n` stand-ins with the same keys as the detector's (supervision merges only
    detections whose fields match): the vehicle type and any text field "unknown", numbers 0."""
    fields: dict[str, np.ndarray] = {VEHICLE_TYPE: np.array(["unknown"] * n, dtype=np.object_)}
    for key, values in data.items():
        if key not in fields and key != PLATE_FIRST:
            text = np.asarray(values).dtype.kind in "OUS"
            fields[key] = np.array(["unknown"] * n, dtype=np.object_) if text else np.zeros(n)
    return fields
