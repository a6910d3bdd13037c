"""Frames fed to the pipeline from a decoding thread of their own.

- `Prefetched`, for recorded footage: decodes a few frames ahead while the models run (OpenCV's and
  FFmpeg's decoders release the GIL, as ONNX Runtime does), and never drops a frame.
- `Live`, for a camera (an rtsp:// stream, or a file paced at its own frame rate with --realtime):
  the camera does not wait for the pipeline. Frames arrive at the camera's rate; when the pipeline
  falls behind, it keeps every k-th frame (k grows while the backlog grows and shrinks when it
  clears), so the frames it drops are spread evenly and the lag stays bounded instead of growing.
  Each kept frame keeps its own index and time stamp, so speeds and crossings stay exact.
  `stats` reports the frames dropped, the keep-every factor and the lag."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from anpr.video import Frame, FrameSource

_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class _Relay(FrameSource):
    """A source that hands on another's frames: it describes itself as that source does."""

    def __init__(self, source: FrameSource):
        self.source = source
        self.name, self.fps = source.name, source.fps
        self.frame_count, self.size = source.frame_count, source.size


class Prefetched(_Relay):
    """`source`'s frames, decoded `depth` frames ahead in a thread."""

    def __init__(self, source: FrameSource, depth: int = 8):
        super().__init__(source)
        self.depth = depth

    def __iter__(self) -> Iterator[Frame]:
        frames: queue.Queue = queue.Queue(maxsize=self.depth)
        stop = threading.Event()

        def handed_on(item: object) -> bool:
            """Put `item` in the queue, waiting for room until the reader stops (then False)."""
            while not stop.is_set():
                try:
                    frames.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def decode() -> None:
            try:
                for frame in self.source:
                    if not handed_on(frame):
                        return
                handed_on(_END)
            except BaseException as error:  # handed to the consumer, raised there
                handed_on(_Failure(error))

        thread = threading.Thread(target=decode, name=f"decode {self.name}", daemon=True)
        thread.start()
        try:
            while (item := frames.get()) is not _END:
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            stop.set()
            thread.join(timeout=2)


@dataclass
class LiveStats:
    frames_seen: int = 0
    frames_kept: int = 0
    keep_every: int = 1  # the decimation now in force
    max_keep_every: int = 1
    lag_s: float = 0.0  # how far behind the camera the frame last handed over was
    max_lag_s: float = 0.0

    @property
    def dropped(self) -> int:
        return self.frames_seen - self.frames_kept


class Paced(_Relay):
    """A recorded file played as a camera would send it: each frame released at its time stamp."""

    def __iter__(self) -> Iterator[Frame]:
        started = time.monotonic()
        for frame in self.source:
            delay = started + frame.time_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield frame


class Live(_Relay):
    """A camera's frames, read as they arrive; evenly thinned when the pipeline falls behind.

    Up to `max_backlog_s` of footage waits for the pipeline. When the backlog is full (its oldest
    frame that old, or as many frames as the camera sends in that time), every other
    waiting frame is dropped and from then on only every k-th frame (k doubled) is kept; once the
    backlog is under a quarter full, k halves again (never below 1). The frames kept stay evenly
    spaced, and the lag never grows past the backlog."""

    def __init__(self, source: FrameSource, max_backlog_s: float = 1.0):
        super().__init__(source)
        self.max_backlog_s = max_backlog_s
        self.capacity = max(4, round(max_backlog_s * source.fps))
        self.stats = LiveStats()

    def __iter__(self) -> Iterator[Frame]:
        waiting: deque[tuple[Frame, float]] = deque()
        ready = threading.Condition()
        stop = threading.Event()
        ended: list[object] = []  # _END or a _Failure, once the source is done

        def receive() -> None:
            outcome: object = _END
            try:
                for frame in self.source:
                    if stop.is_set():
                        return
                    self._offer(frame, waiting, ready)
            except BaseException as error:
                outcome = _Failure(error)
            with ready:
                ended.append(outcome)
                ready.notify()

        thread = threading.Thread(target=receive, name=f"receive {self.name}", daemon=True)
        thread.start()
        try:
            while True:
                with ready:
                    while not waiting and not ended:
                        ready.wait()
                    if not waiting:
                        break
                    frame, arrived = waiting.popleft()
                self._handed_over(arrived)
                yield frame
            if isinstance(ended[0], _Failure):
                raise ended[0].error
        finally:
            stop.set()
            thread.join(timeout=2)

    def _offer(self, frame: Frame, waiting: deque, ready: threading.Condition) -> None:
        stats, now = self.stats, time.monotonic()
        with ready:
            stats.frames_seen += 1
            waited = now - waiting[0][1] if waiting else 0.0  # the backlog, in seconds behind
            if stats.keep_every > 1 and waited < self.max_backlog_s / 4 and len(waiting) < self.capacity // 4:
                stats.keep_every //= 2
            if frame.index % stats.keep_every:
                return
            if len(waiting) >= self.capacity or waited >= self.max_backlog_s:  # full: thin, keep fewer
                kept = list(waiting)[1::2]
                waiting.clear()
                waiting.extend(kept)
                stats.keep_every *= 2
                stats.max_keep_every = max(stats.max_keep_every, stats.keep_every)
            waiting.append((frame, now))
            ready.notify()

    def _handed_over(self, arrived: float) -> None:
        stats = self.stats
        stats.frames_kept += 1
        stats.lag_s = time.monotonic() - arrived
        stats.max_lag_s = max(stats.max_lag_s, stats.lag_s)
