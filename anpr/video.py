"""Frame sources with timestamps: a video file, a folder of frames, or an RTSP/HTTP stream; and the
writer for annotated video. Unusable input (missing, empty, truncated, not a video) is an InputError."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

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
    def __init__(self, path: Path, fps: float):
        self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise InputError(f"{path}: folder holds no frames ({', '.join(IMAGE_SUFFIXES)})")
        first = cv2.imread(str(self.files[0]))
        if first is None:
            raise InputError(f"{self.files[0]}: not a readable image")
        self.name, self.fps, self.frame_count = path.name, fps, len(self.files)
        self.size = (first.shape[1], first.shape[0])

    def __iter__(self) -> Iterator[Frame]:
        for index, file in enumerate(self.files):
            image = cv2.imread(str(file))
            if image is None:
                raise InputError(f"{file}: not a readable image (frame {index})")
            if (image.shape[1], image.shape[0]) != self.size:
                raise InputError(
                    f"{file}: frame size {image.shape[1]}x{image.shape[0]} differs from {self.size}"
                )
            yield Frame(index, index / self.fps, image)


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
    """An MP4 (mp4v) writer opened on the first frame; `close()` is safe to call twice."""

    writer: cv2.VideoWriter | None

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.writer = path, fps, None

    def write(self, image: np.ndarray) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            size = (image.shape[1], image.shape[0])
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, size)
            if not self.writer.isOpened():
                raise InputError(f"{self.path}: cannot write video here")
        self.writer.write(image)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None


def _redact(url: str) -> str:
    """Streams often carry user:password@ in the URL; never print it."""
    scheme, _, rest = url.partition("://")
    host = rest.rsplit("@", 1)[-1]
    return f"{scheme}://{host}"
