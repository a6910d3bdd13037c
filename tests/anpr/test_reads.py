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
