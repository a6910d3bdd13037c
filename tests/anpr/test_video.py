"""Frame sources: files, folders of frames and streams, with timestamps; bad input is one line. The
annotated-video writer: H.264 a browser plays, streamable, with exact frame times."""

import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import anpr.video
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


def test_a_frame_a_folder_cannot_use_is_skipped_and_named_and_the_rest_are_read(tmp_path):
    """Another size, an oversized image (a decompression bomb: 200 MP in 24 kB), a broken file: each
    is skipped with its reason; the frames around them keep their times."""
    from PIL import Image

    for i, image in enumerate(frames(5)):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), image)
    cv2.imwrite(str(tmp_path / "f1.png"), frames(1, size=(50, 50))[0])
    Image.new("1", (20000, 10000)).save(tmp_path / "f2.png")
    (tmp_path / "f3.png").write_bytes(b"not a png")
    source = open_source(tmp_path, fps=10)
    assert [(f.index, f.time_s) for f in source] == [(0, 0.0), (4, 0.4)]
    assert len(source.skipped) == 3
    assert "frame size 50x50" in source.skipped[0] and "100 MP limit" in source.skipped[1]
    assert "not a readable image" in source.skipped[2]


def test_a_folder_with_no_readable_frame_is_an_input_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"broken")
    with pytest.raises(InputError, match="no readable frame"):
        open_source(tmp_path)


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


def test_the_writer_makes_h264_yuv420p_that_browsers_play(clip):
    with av.open(str(clip)) as video:
        stream = video.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (stream.width, stream.height, stream.frames, stream.average_rate) == (96, 64, 10, 5)
        # the colour matrix players read from the stream is the one the writer converted with
        assert (stream.codec_context.colorspace, stream.codec_context.color_range) == (6, 1)
        assert [f.time for f in video.decode(stream)] == [i / 5 for i in range(10)]


@pytest.mark.parametrize(("fps", "rate"), [(12.5, Fraction(25, 2)), (29.97, Fraction(2997, 100))])
def test_frame_times_are_exact_at_fractional_frame_rates(tmp_path, fps, rate):
    path = _sink(tmp_path / "a.mp4", frames(30), fps)
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        assert stream.average_rate == rate
        got = [f.pts * f.time_base for f in video.decode(stream) if f.pts is not None and f.time_base]
    assert got == [i / rate for i in range(30)]


def test_an_odd_sized_frame_is_padded_by_repeating_its_last_row_and_column(tmp_path):
    images = frames(4, size=(97, 63))
    for image in images:
        image[-1, :] = (0, 255, 0)  # a green bottom row, so the padded row shows what it copied
    with av.open(str(_sink(tmp_path / "odd.mp4", images, 5))) as video:
        got = [f.to_ndarray(format="bgr24") for f in video.decode(video=0)]
    assert len(got) == 4 and got[0].shape == (64, 98, 3)
    last = got[-1].astype(int)
    assert np.abs(last[:63, :97] - images[-1]).mean() < 4
    assert last[-1, :40, 1].mean() > 200 and last[-1, :40, 2].mean() < 50  # green like the row above
    assert last[10:50, -1, 2].mean() > 200  # the red bar reaches the copied column


def test_the_index_comes_before_the_frames_so_the_video_streams(clip):
    boxes = _top_level_boxes(clip.read_bytes())
    assert boxes[0] == "ftyp" and boxes.index("moov") < boxes.index("mdat")


def test_a_frame_of_another_size_is_an_input_error(tmp_path):
    sink = VideoSink(tmp_path / "a.mp4", fps=5)
    sink.write(frames(1)[0])
    with pytest.raises(InputError, match="frame 1 is 50x40, the video 96x64"):
        sink.write(frames(1, size=(50, 40))[0])
    sink.close()


def test_an_unwritable_folder_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder would go")
    sink = VideoSink(tmp_path / "taken" / "annotated.mp4", fps=5)
    with pytest.raises(InputError, match="cannot write video here") as caught:
        sink.write(frames(1)[0])
    assert "\n" not in str(caught.value)
    sink.close()


def test_a_missing_encoder_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(anpr.video, "H264_ENCODER", "libx264-not-built")
    with pytest.raises(InputError, match="lacks the libx264-not-built encoder"):
        VideoSink(tmp_path / "a.mp4", fps=5).write(frames(1)[0])


def test_a_sink_given_no_frames_writes_no_file(tmp_path):
    VideoSink(tmp_path / "a.mp4", fps=5).close()
    assert not (tmp_path / "a.mp4").exists()


def _sink(path: Path, images: list[np.ndarray], fps: float) -> Path:
    sink = VideoSink(path, fps)
    for image in images:
        sink.write(image)
    sink.close()
    return path


def _top_level_boxes(data: bytes) -> list[str]:
    """The ISO-BMFF boxes at the top of an MP4, in file order."""
    names, at = [], 0
    while at + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:  # a 64-bit size follows the name
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        names.append(name.decode("latin-1"))
        if size == 0:  # the box runs to the end of the file
            break
        at += size
    return names


def test_a_thinned_live_feed_keeps_each_frame_at_its_own_time(tmp_path):
    """Frames a live camera's pipeline kept (0, 1, 4, 5, 9 of a 10 fps feed) are shown when they
    were taken, so the video plays at the camera's speed, not faster."""
    sink = VideoSink(tmp_path / "live.mp4", 10.0)
    for index, image in zip((0, 1, 4, 5, 9), frames(5), strict=True):
        sink.write(image, index / 10)
    sink.close()
    with av.open(str(tmp_path / "live.mp4")) as video:
        times = [round(f.time, 3) for f in video.decode(video.streams.video[0])]
    assert times == [0.0, 0.1, 0.4, 0.5, 0.9]


def test_a_frame_changed_after_it_is_written_is_encoded_as_it_was(tmp_path):
    """Frames are encoded in a thread of their own: the sink keeps a copy, so a caller that draws on
    its buffer again at once does not change what was written."""
    image = np.full((64, 96, 3), 200, np.uint8)
    sink = VideoSink(tmp_path / "a.mp4", fps=5)
    sink.write(image)
    image[:] = 0  # drawn over straight away
    sink.close()
    with av.open(str(tmp_path / "a.mp4")) as video:
        first = next(video.decode(video.streams.video[0])).to_ndarray(format="bgr24")
    assert abs(float(first.mean()) - 200) < 5


def test_an_encoding_failure_in_the_thread_reaches_the_writer(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise cv2.error("no colour conversion today")

    sink = VideoSink(tmp_path / "a.mp4", fps=5)
    monkeypatch.setattr(anpr.video.cv2, "cvtColor", broken)
    with pytest.raises(cv2.error, match="no colour conversion today"):
        for image in frames(40):  # raised by a later write, or at the latest by close
            sink.write(image)
        sink.close()
    sink.close()  # raised once: closing again is quiet
