"""Frame sources with timestamps: a video file, a folder of frames, or an RTSP/HTTP stream; and the
writer for annotated video (H.264 MP4). Unusable input (missing, empty, truncated, not a video) is an
InputError."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange

from anpr.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://")
DEFAULT_FOLDER_FPS = 10.0


@dataclass(frozen=True)
class Frame:
    index: int
    time_s: float  # seconds since the first frame
    image: np.ndarray  # BGR uint8


class FrameSource:
    """Iterate to get Frames. `fps` and `frame_count` (None for streams) are known before reading."""

    name: str
    fps: float
    frame_count: int | None
    size: tuple[int, int]  # width, height

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError


def open_source(spec: str | Path, fps: float | None = None) -> FrameSource:
    """A file, a folder of frames (sorted by name; `fps` or 10 fps) or a stream URL."""
    # FFmpeg prints its own complaints ("moov atom not found") on stderr; ours are one line.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    text = str(spec)
    if text.lower().startswith(STREAM_SCHEMES):
        return StreamSource(text)
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        return FolderSource(path, fps or DEFAULT_FOLDER_FPS)
    return FileSource(path, fps)


class FileSource(FrameSource):
    def __init__(self, path: Path, fps: float | None = None):
        if path.stat().st_size == 0:
            raise InputError(f"{path}: empty file")
        capture = cv2.VideoCapture(str(path))
        ok, first = capture.read() if capture.isOpened() else (False, None)
        reported = capture.get(cv2.CAP_PROP_FPS)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        capture.release()
        if not ok or first is None:
            raise InputError(f"{path}: not a readable video (truncated, empty or unsupported format)")
        self.path, self.name = path, path.name
        self.fps = fps or (reported if 0 < reported < 1000 else 25.0)
        self.frame_count = count if count > 0 else None
        self.size = (first.shape[1], first.shape[0])

    def __iter__(self) -> Iterator[Frame]:
        capture = cv2.VideoCapture(str(self.path))
        index = 0
        try:
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                yield Frame(index, index / self.fps, image)
                index += 1
        finally:
            capture.release()
        if self.frame_count and index < 0.9 * self.frame_count:
            # a few missing trailing frames are common in real files; most of them missing is not
            raise InputError(f"{self.path}: truncated video (read {index} of {self.frame_count} frames)")


class FolderSource(FrameSource):
    """Frames from image files in name order. The first readable one sets the size; a frame that
    cannot be read (unreadable, oversized, another size) is skipped with a one-line warning and
    named in `skipped`, and the others are processed: one bad file does not lose a folder's footage.
    Each frame keeps its place in time (index / fps), skipped ones included."""

    def __init__(self, path: Path, fps: float):
        from anpr.images import load_image

        self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise InputError(f"{path}: folder holds no frames ({', '.join(IMAGE_SUFFIXES)})")
        self.skipped: list[str] = []
        first = None
        for file in self.files:
            try:
                first = load_image(file)
                break
            except InputError as exc:
                self._skip(str(exc))
        if first is None:
            raise InputError(f"{path}: no readable frame in the folder ({self.skipped[0]})")
        self.name, self.fps, self.frame_count = path.name, fps, len(self.files)
        self.size = (first.shape[1], first.shape[0])

    def __iter__(self) -> Iterator[Frame]:
        from anpr.images import load_image

        self.skipped = []
        for index, file in enumerate(self.files):
            try:
                image = load_image(file)
            except InputError as exc:
                self._skip(f"{exc} (frame {index})")
                continue
            if (image.shape[1], image.shape[0]) != self.size:
                self._skip(f"{file}: frame size {image.shape[1]}x{image.shape[0]} differs from {self.size}")
                continue
            yield Frame(index, index / self.fps, image)

    def _skip(self, reason: str) -> None:
        self.skipped.append(reason)
        logging.getLogger(__name__).warning("skipped a frame: %s", reason)


class StreamSource(FrameSource):
    """A live stream: time is the wall clock since the first frame, so dropped frames keep time."""

    def __init__(self, url: str):
        capture = cv2.VideoCapture(url)
        if not capture.isOpened():
            raise InputError(f"{_redact(url)}: cannot open stream")
        ok, first = capture.read()
        if not ok:
            capture.release()
            raise InputError(f"{_redact(url)}: stream opened but sent no frame")
        self.capture, self.first, self.url = capture, first, url
        self.name = _redact(url)
        self.fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        self.frame_count = None
        self.size = (first.shape[1], first.shape[0])

    def __iter__(self) -> Iterator[Frame]:
        start = time.monotonic()
        yield Frame(0, 0.0, self.first)
        index = 1
        try:
            while True:
                ok, image = self.capture.read()
                if not ok:
                    break
                yield Frame(index, time.monotonic() - start, image)
                index += 1
        finally:
            self.capture.release()


class VideoSink:
    """Annotated video that browsers and phones play: H.264 (yuv420p) in MP4 with the index at the
    front, so it streams. Opened on the first frame, whose size every frame must have; an odd width
    or height is padded by repeating the last column or row, as 4:2:0 needs even sizes. `close()` is
    safe to call twice.

    Frames are converted and encoded in a thread of their own, at most QUEUED_FRAMES behind
    `write()` (a copy of each is queued): the pipeline's Python work leaves one core idle, which
    the encoding then uses. An encoder's failure is raised by the next `write()` or by `close()`."""

    QUEUED_FRAMES = 8

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.container: av.container.OutputContainer | None = None
        self.stream: av.video.stream.VideoStream | None = None
        self.size = (0, 0)  # width, height of the frames written
        self.count = 0
        self._next_pts = -1  # the last time stamp given, in frame slots
        self._queue: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(self.QUEUED_FRAMES)
        self._encoder: threading.Thread | None = None
        self._failure: Exception | None = None  # what stopped the encoding thread
        self._reported = False

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Append a frame, shown at `time_s` seconds from the start (default: the next frame's slot):
        a live camera's thinned frames keep their place in time, so the video plays at real speed."""
        self._raise_failure()
        if self.stream is None:
            self._open(image.shape[1], image.shape[0])
            self._encoder = threading.Thread(target=self._encode_queued, name="video-sink", daemon=True)
            self._encoder.start()
        if (image.shape[1], image.shape[0]) != self.size:
            raise InputError(
                f"{self.path}: frame {self.count} is {image.shape[1]}x{image.shape[0]}, "
                f"the video {self.size[0]}x{self.size[1]}"
            )
        slot = self.count if time_s is None else round(time_s * self.fps)
        self._next_pts = max(slot, self._next_pts + 1)
        self.count += 1
        self._queue.put((image.copy(), self._next_pts))

    def close(self) -> None:
        container, stream, encoder = self.container, self.stream, self._encoder
        self.container = self.stream = self._encoder = None
        if encoder is not None:
            self._queue.put(None)
            encoder.join()
        if container is None or stream is None:
            self._raise_failure()
            return
        try:
            try:
                if self._failure is None:
                    container.mux(stream.encode(None))  # the frames the encoder still holds
            finally:
                container.close()  # faststart: the index moves to the front here
        except (OSError, av.FFmpegError) as exc:
            raise _cannot_write(self.path, exc) from None
        self._raise_failure()

    def _encode_queued(self) -> None:
        """The encoding thread: each queued frame to YUV, encoded and muxed, until None; after a
        failure the rest are taken off the queue unwritten (the writer must never block)."""
        assert self.container is not None and self.stream is not None
        container, stream = self.container, self.stream
        while (item := self._queue.get()) is not None:
            if self._failure is not None:
                continue
            image, pts = item
            try:
                # OpenCV converts in a third of swscale's time; BT.601 limited range, as the stream is tagged
                yuv = cv2.cvtColor(_even_sized(image), cv2.COLOR_BGR2YUV_I420)
                frame = av.VideoFrame.from_ndarray(np.asarray(yuv, np.uint8), format="yuv420p")
                frame.pts = pts
                container.mux(stream.encode(frame))
            except (OSError, av.FFmpegError) as exc:
                self._failure = _cannot_write(self.path, exc)
            except Exception as exc:  # raised in the writer's thread all the same, never swallowed
                self._failure = exc

    def _raise_failure(self) -> None:
        """Raise the encoding thread's failure, once."""
        if self._failure is not None and not self._reported:
            self._reported = True
            raise self._failure

    def _open(self, width: int, height: int) -> None:
        try:
            av.codec.Codec(H264_ENCODER, "w")
        except av.codec.codec.UnknownCodecError:
            raise InputError(
                f"{self.path}: this PyAV build lacks the {H264_ENCODER} encoder (PyPI's av wheels have it)"
            ) from None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            container = av.open(
                str(self.path), "w", format="mp4", container_options={"movflags": "+faststart"}
            )
        except (OSError, av.FFmpegError) as exc:
            raise _cannot_write(self.path, exc) from None
        # a rational rate: 12.5 fps is 25/2 and 29.97 is 2997/100, so frame times never drift
        rate = Fraction(self.fps).limit_denominator(1001)
        stream = container.add_stream(H264_ENCODER, rate=rate, options=dict(H264_OPTIONS))
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = 1 / rate
        stream.codec_context.colorspace = BT601_MATRIX
        stream.codec_context.color_range = ColorRange.MPEG
        self.container, self.stream, self.size = container, stream, (width, height)


# veryfast: x264's fastest preset with macroblock-tree rate control, which a fixed camera's still
# background rewards (a third of superfast's size at the same PSNR for about 1 ms more a 1080p frame);
# CRF 23 is x264's default quality. x264's default keyframe interval (250) is kept: shorter cost 60%.
H264_ENCODER: Final = "libx264"
H264_OPTIONS = {"preset": "veryfast", "crf": "23"}
BT601_MATRIX = 6  # AVCOL_SPC_SMPTE170M: the matrix cv2.COLOR_BGR2YUV_I420 converts with


def _even_sized(image: np.ndarray) -> np.ndarray:
    pad_y, pad_x = image.shape[0] % 2, image.shape[1] % 2
    if not (pad_x or pad_y):
        return image
    return np.pad(image, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")


def _cannot_write(path: Path, exc: Exception) -> InputError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return InputError(f"{path}: cannot write video here ({reason})")


def _redact(url: str) -> str:
    """Streams often carry user:password@ in the URL; never print it."""
    scheme, _, rest = url.partition("://")
    host = rest.rsplit("@", 1)[-1]
    return f"{scheme}://{host}"
