"""Frame sources: files, folders of frames and streams, with timestamps; bad input is one line."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr.errors import InputError
from anpr.video import VideoSink, _redact, open_source
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
ANPR = str(Path(sys.executable).with_name("anpr"))


def frames(n: int, size=(96, 64)) -> list[np.ndarray]:
    out = []
    for i in range(n):
        image = np.zeros((size[1], size[0], 3), np.uint8)
        image[:, : (i + 1) * size[0] // n] = (0, 0, 255)  # a red bar that grows: frames differ
        out.append(image)
    return out


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    sink = VideoSink(path, fps=5)
    for image in frames(10):
        sink.write(image)
    sink.close()
    sink.close()  # twice is harmless
    return path


def test_a_file_gives_its_frames_with_times_from_its_frame_rate(clip):
    source = open_source(clip)
    assert (source.fps, source.frame_count, source.size) == (5.0, 10, (96, 64))
    got = list(source)
    assert [f.index for f in got] == list(range(10))
    assert [f.time_s for f in got] == pytest.approx([i / 5 for i in range(10)])
    assert got[-1].image[:, -1, 2].mean() > 200 and got[0].image[:, -1, 2].mean() < 50


def test_the_frame_rate_can_be_overridden(clip):
    assert [f.time_s for f in open_source(clip, fps=10)][:3] == pytest.approx([0, 0.1, 0.2])


def test_a_folder_of_frames_is_read_in_name_order(tmp_path):
    for i, image in enumerate(frames(4)):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), image)
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(tmp_path, fps=2)
    got = list(source)
    assert source.frame_count == 4 and [f.time_s for f in got] == [0, 0.5, 1.0, 1.5]
    assert got[3].image[:, -1, 2].mean() > 200


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p / "missing.mp4", "no such file or folder"),
        (lambda p: _write(p / "empty.mp4", b""), "empty file"),
        (lambda p: _write(p / "notes.mp4", b"not a video at all" * 10), "not a readable video"),
        (lambda p: (p / "frames").mkdir() or p / "frames", "folder holds no frames"),
    ],
)
def test_unusable_input_is_an_input_error(tmp_path, make, problem):
    with pytest.raises(InputError, match=problem):
        open_source(make(tmp_path))


def test_a_truncated_file_is_an_input_error(clip):
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated|not a readable video"):
        list(open_source(clip))


def test_a_folder_with_a_frame_of_another_size_is_an_input_error(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), frames(1)[0])
    cv2.imwrite(str(tmp_path / "b.png"), frames(1, size=(50, 50))[0])
    with pytest.raises(InputError, match="frame size 50x50"):
        list(open_source(tmp_path))


def test_stream_credentials_are_never_printed():
    assert _redact("rtsp://admin:secret@10.0.0.5:554/stream1") == "rtsp://10.0.0.5:554/stream1"
    with pytest.raises(InputError) as caught:
        open_source("rtsp://admin:secret@127.0.0.1:9/none")
    assert "secret" not in str(caught.value) and "cannot open stream" in str(caught.value)


def test_the_cli_prints_one_line_for_a_truncated_video(clip):
    clip.write_bytes(clip.read_bytes()[:300])
    result = subprocess.run(
        [ANPR, "process", str(clip), "--site", str(SAMPLES / "regal-chowk.yaml"), "--no-store"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {clip}: not a readable video (truncated, empty or unsupported format)"
    ]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
