"""What a footage run leaves behind when something fails: a records database it cannot use stops it
before the first frame with one line and nothing written; a run stopped part-way leaves its output
folder marked INCOMPLETE, and a run that ends well removes the mark. The real command throughout."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from anpr.weights import PROJECT_ROOT

ANPR = str(Path(sys.executable).with_name("anpr"))
SAMPLES = PROJECT_ROOT / "sample_videos"
CLIP, SITE = SAMPLES / "canal-road.mp4", SAMPLES / "canal-road.yaml"


def process(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [ANPR, "process", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


@pytest.mark.parametrize(
    ("database", "error"),
    [
        (
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "error: the records database is unreachable or refused the operation: connection failed:",
        ),
        (
            "not-a-database",
            "error: the records database sqlite:///{path} cannot be used: file is not a database",
        ),
    ],
    ids=["unreachable", "not-a-database"],
)
def test_a_database_it_cannot_use_stops_the_run_before_the_first_frame(tmp_path, database, error):
    if database == "not-a-database":
        path = tmp_path / "records.db"
        path.write_bytes(b"these are not the records you are looking for" * 100)
        database, error = f"sqlite:///{path}", error.format(path=path)
    out = tmp_path / "out"
    run = process(str(CLIP), "--site", str(SITE), "--db", database, "--out", str(out))
    try:
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 3
    [line] = stderr.strip().splitlines()
    assert line.startswith(error)
    assert not out.exists()  # no video, no evidence: not a frame was read


@pytest.mark.slow
def test_a_run_stopped_part_way_is_marked_incomplete_until_one_ends_well(tmp_path):
    out = tmp_path / "out"
    marker = out / "INCOMPLETE"
    run = process(str(CLIP), "--site", str(SITE), "--no-store", "--out", str(out))
    try:
        deadline = time.monotonic() + 120
        video = out / "annotated.mp4"  # opened on the first frame written
        while not video.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists() and video.exists(), run.communicate()[1]
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, stderr  # Ctrl-C
    text = marker.read_text()
    assert text.startswith(f"anpr process {CLIP} started here at ") and "annotated.mp4 and evidence/" in text

    frames = tmp_path / "frames"
    frames.mkdir()
    capture = cv2.VideoCapture(str(CLIP))
    for i in range(4):
        ok, image = capture.read()
        assert ok
        cv2.imwrite(str(frames / f"{i:04d}.png"), image)
    capture.release()
    again = process(str(frames), "--site", str(SITE), "--no-store", "--out", str(out))
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert not marker.exists() and (out / "annotated.mp4").exists()
