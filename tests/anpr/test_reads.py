"""The read scheduler keeps reading a track until its plausible reads settle: junk that agrees with
itself settles nothing."""

from anpr.reads import ReadPolicy, ReadScheduler
from anpr.tracks import Track
from anpr.types import PlateRead


def track_with(*reads: tuple[str, float]) -> Track:
    return Track(1, reads=[PlateRead(text, confidence) for text, confidence in reads])


def test_three_agreeing_plausible_reads_settle_the_track():
    scheduler = ReadScheduler(None, ReadPolicy(), "pk")
    assert scheduler.wants(track_with(("LEH5789", 0.9), ("LEH5789", 0.8)))
    assert not scheduler.wants(track_with(("LEH5789", 0.9), ("LEH5789", 0.8), ("LEH5789", 0.95)))


def test_junk_that_agrees_with_itself_settles_nothing():
    scheduler = ReadScheduler(None, ReadPolicy(), "pk")
    assert scheduler.wants(track_with(("T", 0.9), ("T", 0.9), ("T", 0.9)))  # one letter
    assert scheduler.wants(
        track_with(("LEH5789", 0.05), ("LEH5789", 0.05), ("LEH5789", 0.05))
    )  # under the floor


def test_a_track_out_of_attempts_is_not_read_again():
    scheduler = ReadScheduler(None, ReadPolicy(max_attempts=2), "pk")
    assert not scheduler.wants(track_with(("T", 0.9), ("X", 0.9)))


class PlateOf:
    """A fake recognizer whose plate, inside each vehicle, is `width` pixels wide; read LEH5789."""

    def __init__(self, width: float):
        self.width = width

    def find_plates(self, image, subset, whole_frame=True):
        import numpy as np
        import supervision as sv

        x1, y1 = subset.xyxy[:, 0] + 10, subset.xyxy[:, 1] + 10
        plates = np.stack([x1, y1, x1 + self.width, y1 + 15], axis=1)
        return sv.Detections(xyxy=plates, data={"vehicle_index": np.arange(len(plates))})

    def read_crops(self, crops, region):
        return [PlateRead("LEH5789", 0.9) for _ in crops]


def _read_one(width: float) -> tuple[ReadScheduler, Track]:
    import numpy as np
    import supervision as sv

    from anpr.tracks import Sighting

    scheduler, track = ReadScheduler(PlateOf(width), ReadPolicy(), "pk"), Track(1)
    vehicles = sv.Detections(xyxy=np.array([[100.0, 100.0, 300.0, 250.0]]), tracker_id=np.array([1]))
    scheduler.read(vehicles, [Sighting(track, 0, False, False)], np.zeros((480, 640, 3), np.uint8))
    return scheduler, track


def test_a_plate_coming_into_reading_range_puts_the_track_in_the_reading_zone():
    """Plates 50 px wide are read; from 35 px (0.7 of that) the schedule looks again next frame."""
    scheduler, track = _read_one(60)
    assert scheduler.in_zone and [r.text for r in track.reads] == ["LEH5789"]
    scheduler, track = _read_one(40)
    assert scheduler.in_zone and track.reads == []
    scheduler, track = _read_one(20)
    assert not scheduler.in_zone and track.reads == []
