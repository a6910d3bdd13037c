"""Frames from a decoding thread: recorded footage loses none; a live camera that outpaces the
pipeline is thinned evenly, with a bounded lag, and every kept frame keeps its time stamp."""

import time

import numpy as np
import pytest

from anpr.feed import Live, Paced, Prefetched
from anpr.video import Frame, FrameSource


class Counting(FrameSource):
    name, size = "test", (8, 8)

    def __init__(self, count: int, fps: float = 50.0, fail_at: int | None = None):
        self.fps, self.frame_count, self.count, self.fail_at = fps, count, count, fail_at

    def __iter__(self):
        for index in range(self.count):
            if index == self.fail_at:
                raise ValueError("truncated")
            yield Frame(index, index / self.fps, np.zeros((8, 8, 3), np.uint8))


def test_prefetched_footage_keeps_every_frame_in_order():
    assert [f.index for f in Prefetched(Counting(40), depth=3)] == list(range(40))


def test_a_decoding_failure_reaches_the_reader_after_the_frames_before_it():
    seen = []
    with pytest.raises(ValueError, match="truncated"):
        for frame in Prefetched(Counting(10, fail_at=6)):
            seen.append(frame.index)
    assert seen == list(range(6))


def test_a_live_camera_the_pipeline_keeps_up_with_loses_nothing():
    live = Live(Paced(Counting(30, fps=100.0)))
    assert [f.index for f in live] == list(range(30))
    assert live.stats.dropped == 0


def test_a_pipeline_slower_than_the_camera_drops_evenly_with_a_bounded_lag():
    """Camera 100 fps for 2 s, pipeline 30 ms a frame (~33 fps): it keeps about a third, spread
    over the whole clip, and never falls more than the backlog (0.5 s) behind."""
    live = Live(Paced(Counting(200, fps=100.0)), max_backlog_s=0.5)
    kept = []
    for frame in live:
        kept.append(frame)
        time.sleep(0.03)
    indices = [f.index for f in kept]
    assert live.stats.dropped > 80 and indices[-1] >= 190  # the end of the clip is still seen
    assert max(np.diff(indices)) <= 8  # no long hole: the drops are spread out
    assert live.stats.max_lag_s < 0.8
    assert all(f.time_s == pytest.approx(f.index / 100.0) for f in kept)
