"""The read scheduler: plates in reading range are looked at with the small reader every time; the
full reader reads a track's best crop once the quick reads agree, and again on a better crop, until
its plausible full reads settle (two agreeing, or one as sure as SURE). Junk that agrees with itself
settles nothing, and a box as wide as its vehicle is not its plate."""

import numpy as np
import supervision as sv

from anpr.reads import SURE, ReadPolicy, ReadScheduler, Sighted
from anpr.tracks import Sighting, Track
from anpr.types import PlateRead


def track_with(*reads: tuple[str, float]) -> Track:
    return Track(1, reads=[PlateRead(text, confidence) for text, confidence in reads])


def test_two_agreeing_plausible_reads_or_one_sure_read_settle_the_track():
    scheduler = ReadScheduler(None, ReadPolicy(), "pk")
    assert scheduler.wants(track_with(("LEH5789", 0.8)))
    assert not scheduler.wants(track_with(("LEH5789", 0.8), ("LEH5789", 0.7)))
    assert not scheduler.wants(track_with(("LEH5789", SURE)))


def test_junk_that_agrees_with_itself_settles_nothing():
    scheduler = ReadScheduler(None, ReadPolicy(), "pk")
    assert scheduler.wants(track_with(("T", 0.95), ("T", 0.95), ("T", 0.95)))  # one letter
    assert scheduler.wants(track_with(("LEH5789", 0.05), ("LEH5789", 0.05)))  # under the floor


def test_a_track_out_of_attempts_is_not_read_again():
    scheduler = ReadScheduler(None, ReadPolicy(max_attempts=2), "pk")
    assert not scheduler.wants(track_with(("T", 0.9), ("X", 0.9)))


class PlateOf:
    """A fake recognizer: inside each vehicle a plate `width` pixels wide (and, with `wide_junk`, a
    more confident box as wide as the vehicle); the full reader reads `texts` in turn."""

    def __init__(self, width: float, texts=("LEH5789",), confidence=0.7, wide_junk=False):
        self.width, self.texts, self.confidence, self.wide_junk = width, list(texts), confidence, wide_junk
        self.full_reads = 0
        self.regions = []  # the `near` regions of each search
        self.hidden = False  # no plate to be found

    def find_plates(self, image, subset, whole_frame=True, near=()):
        self.regions.append(list(near))
        if self.hidden:
            return sv.Detections.empty()
        x1, y1 = subset.xyxy[:, 0] + 10, subset.xyxy[:, 1] + 10
        plates = np.stack([x1, y1, x1 + self.width, y1 + 15], axis=1)
        confidence = np.full(len(plates), 0.6)
        links = np.arange(len(plates))
        if self.wide_junk:
            plates = np.concatenate([plates, subset.xyxy])
            confidence = np.concatenate([confidence, np.full(len(subset), 0.9)])
            links = np.concatenate([links, np.arange(len(subset))])
        return sv.Detections(xyxy=plates, confidence=confidence, data={"vehicle_index": links})

    def read_crops(self, crops, region):
        self.full_reads += len(crops)
        text = self.texts[min(self.full_reads, len(self.texts)) - 1]
        return [PlateRead(text, self.confidence) for _ in crops]


class Quick:
    """A fake small reader that reads `text` at `confidence` on every crop."""

    def __init__(self, text="LEH5789", confidence=0.5):
        self.text, self.confidence = text, confidence

    def read_batch(self, crops, region):
        return [PlateRead(self.text, self.confidence) for _ in crops]


VEHICLE = sv.Detections(xyxy=np.array([[100.0, 100.0, 300.0, 250.0]]), tracker_id=np.array([1]))
FRAME = np.zeros((480, 640, 3), np.uint8)


def _look(scheduler: ReadScheduler, track: Track, times: int = 1) -> None:
    for index in range(times):
        scheduler.read(VEHICLE, [Sighting(track, 0, False, False)], FRAME, index)


def test_a_plate_coming_into_reading_range_puts_the_track_in_the_reading_zone():
    """Plates 40 px wide are read; from 28 px (0.7 of that) the track is looked at again next frame."""
    for width, near, read in ((60, True, True), (30, True, False), (20, False, False)):
        scheduler, track = ReadScheduler(PlateOf(width), ReadPolicy(), "pk"), Track(1)
        _look(scheduler, track)
        assert scheduler.in_zone is near and (track.id in scheduler.near) is near
        assert bool(track.reads) is read


def test_the_full_reader_waits_until_the_quick_reads_agree():
    recognizer = PlateOf(60)
    scheduler, track = ReadScheduler(recognizer, ReadPolicy(), "pk", quick=Quick()), Track(1)
    _look(scheduler, track)
    assert recognizer.full_reads == 0 and scheduler.looks == 1
    _look(scheduler, track)
    assert recognizer.full_reads == 1 and [r.text for r in track.reads] == ["LEH5789"]


def test_a_track_closing_unread_has_its_best_crop_read():
    recognizer = PlateOf(60)
    scheduler, track = ReadScheduler(recognizer, ReadPolicy(), "pk", quick=Quick("LE", 0.3)), Track(1)
    _look(scheduler, track, 3)  # the quick reads never fit a layout: nothing read fully yet
    assert recognizer.full_reads == 0
    scheduler.flush(track)
    assert recognizer.full_reads == 1 and track.reads[0].text == "LEH5789"


def test_reading_stops_once_settled():
    recognizer = PlateOf(60, confidence=SURE)
    scheduler, track = ReadScheduler(recognizer, ReadPolicy(), "pk", quick=Quick()), Track(1)
    _look(scheduler, track, 6)
    assert recognizer.full_reads == 1 and not scheduler.wants(track)
    scheduler.flush(track)
    assert recognizer.full_reads == 1


def test_a_box_as_wide_as_the_vehicle_is_not_its_plate():
    recognizer = PlateOf(60, wide_junk=True)
    scheduler, track = ReadScheduler(recognizer, ReadPolicy(), "pk"), Track(1)
    _look(scheduler, track)
    assert track.reads and track.reads[0].box is not None
    x1, _, x2, _ = track.reads[0].box
    assert x2 - x1 == 60  # the plate-shaped box, not the more confident vehicle-wide one


def test_a_plate_found_is_looked_for_next_only_around_where_it_was():
    """The plate detector then runs on a region three plates wide about the plate moved with its
    vehicle (a quarter of the pixels of the vehicle's box); a plate not found there is looked for in
    the whole vehicle again, and so is one last found too long ago."""
    recognizer = PlateOf(60)
    scheduler, track = ReadScheduler(recognizer, ReadPolicy(), "pk", quick=Quick("LE", 0.3)), Track(1)
    seen = [Sighting(track, 0, False, False)]
    scheduler.read(VEHICLE, seen, FRAME, 0, time_s=0.0)
    moved = sv.Detections(xyxy=VEHICLE.xyxy + [20, 5, 20, 5], tracker_id=np.array([1]))
    scheduler.read(moved, seen, FRAME, 1, time_s=0.04)
    assert recognizer.regions[0] == [None]
    region = recognizer.regions[1][0]
    # the plate (110..170, 110..125) moved 20 px right, 5 down: centred on (160, 122.5)
    assert np.allclose(region, [160 - 90, 122.5 - 45, 160 + 90, 122.5 + 45])
    assert scheduler.searched_near == 1
    recognizer.hidden = True
    scheduler.read(moved, seen, FRAME, 2, time_s=0.08)  # found nowhere in the region
    scheduler.read(moved, seen, FRAME, 3, time_s=0.12)
    assert recognizer.regions[-1] == [None]
    recognizer.hidden = False
    scheduler.read(moved, seen, FRAME, 4, time_s=0.16)
    scheduler.read(moved, seen, FRAME, 5, time_s=0.16 + Sighted.FRESH_S + 0.01)  # too long ago
    assert recognizer.regions[-1] == [None]


def test_the_region_follows_the_vehicle_as_it_grows_and_stays_in_the_frame():
    sighted = Sighted(1.0, np.array([110.0, 200.0, 150.0, 210.0]), np.array([100.0, 100.0, 220.0, 220.0]))
    # the vehicle twice as large, its top-left corner at (0, 0): the plate 80 px wide, centred on
    # (60, 210); the region 3 x 80 wide and 1.5 x 80 high about it, cut at the frame's left edge
    region = sighted.region(np.array([0.0, 0.0, 240.0, 240.0]), 1.1, (640, 480))
    assert np.allclose(region, [0, 210 - 60, 60 + 120, 210 + 60])
    assert sighted.region(np.array([0.0, 0.0, 240.0, 240.0]), 0.9, (640, 480)) is None  # before


def test_a_sliver_taller_than_wide_is_not_a_plate():
    """The plate model gives boxes 4 px wide and 20 high at a car's edge, some more confident than
    the plate: they are neither read nor remembered as where the plate was."""
    recognizer = PlateOf(60)
    found = recognizer.find_plates

    def with_sliver(image, subset, whole_frame=True, near=()):
        plates = found(image, subset, whole_frame, near)
        x = subset.xyxy[0, 2] - 6
        sliver = np.array([[x, subset.xyxy[0, 1] + 20, x + 4, subset.xyxy[0, 1] + 40]])
        return sv.Detections(
            xyxy=np.concatenate([plates.xyxy, sliver]),
            confidence=np.concatenate([plates.confidence, [0.9]]),
            data={"vehicle_index": np.concatenate([plates.data["vehicle_index"], [0]])},
        )

    recognizer.find_plates = with_sliver
    scheduler, track = ReadScheduler(recognizer, ReadPolicy(), "pk"), Track(1)
    scheduler.read(VEHICLE, [Sighting(track, 0, False, False)], FRAME, 0, time_s=0.0)
    assert track.reads and track.reads[0].box is not None
    x1, _, x2, _ = track.reads[0].box
    assert x2 - x1 == 60
    assert scheduler.state[track.id].sighted is not None
    assert scheduler.state[track.id].sighted.plate[2] - scheduler.state[track.id].sighted.plate[0] == 60


class SlowPlateOf(PlateOf):
    """PlateOf whose full reads take a while and say on which thread they ran."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.threads = []

    def read_crops(self, crops, region):
        import threading
        import time

        time.sleep(0.05)
        self.threads.append(threading.current_thread().name)
        return super().read_crops(crops, region)


def test_a_background_full_read_is_taken_a_fixed_number_of_frames_later_whatever_its_timing():
    """In video the full read runs beside the next frames: its track is not looked at meanwhile, and
    the read is recorded at frame index + READ_LAG_FRAMES however fast it was, so that a run gives
    the same events every time."""
    from anpr.reads import READ_LAG_FRAMES

    recognizer = SlowPlateOf(60, confidence=0.7)
    scheduler = ReadScheduler(recognizer, ReadPolicy(), "pk", quick=Quick(), background=True)
    track = Track(1)
    _look(scheduler, track, 2)  # the quick reads agree at frame 1: a full read begins
    assert not track.reads  # it may have run already, but it is not taken yet
    assert track.id in scheduler.reading and not scheduler.wants(track)
    looks = scheduler.looks
    for index in range(2, 1 + READ_LAG_FRAMES):  # frames before it is due: the track waits
        scheduler.read(VEHICLE, [Sighting(track, 0, False, False)], FRAME, index)
        assert not track.reads and scheduler.looks == looks
    scheduler.read(VEHICLE, [Sighting(track, 0, False, False)], FRAME, 1 + READ_LAG_FRAMES)
    assert [r.text for r in track.reads] == ["LEH5789"] and track.id not in scheduler.reading
    assert scheduler.looks == looks + 1  # unsettled (0.7): looked at again at once
    assert recognizer.threads == ["full-read_0"]
    scheduler.close()


def test_a_track_closing_takes_its_background_read_first():
    recognizer = SlowPlateOf(60, confidence=SURE)
    scheduler = ReadScheduler(recognizer, ReadPolicy(), "pk", quick=Quick(), background=True)
    track = Track(1)
    _look(scheduler, track, 2)
    scheduler.flush(track)  # closing before the read is due
    assert [r.text for r in track.reads] == ["LEH5789"] and recognizer.full_reads == 1
    assert scheduler.just_settled == [track]
    scheduler.close()
