"""anpr watch: live cameras in processes of their own, reopened after a failure with a back-off,
their health written once a second, stopped cleanly by SIGTERM with their open tracks recorded."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from anpr.errors import ConfigError
from anpr.jobs.health import read_health
from anpr.jobs.watch import CameraSpec, load_cameras, run_camera
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
ANPR = str(Path(sys.executable).parent / "anpr")  # the installed command


def _cameras(folder: Path, text: str) -> Path:
    path = folder / "cameras.yaml"
    path.write_text(text)
    return path


def test_the_cameras_file_is_checked_with_one_line_naming_the_key(tmp_path):
    site = SAMPLES / "regal-chowk.yaml"
    for text, expected in (
        ("cameras: []", "cameras: List should have at least 1 item"),
        (
            f"cameras: [{{id: A, source: x.mp4, site: {site}}}, {{id: A, source: y.mp4, site: {site}}}]",
            "listed twice",
        ),
        ("cameras: [{id: 'a b', source: x.mp4, site: s.yaml}]", "cameras.0.id"),
        ("cameras: [{id: A, source: x.mp4, site: missing.yaml}]", "camera A: site file"),
        ("cameras: [{id: A, source: x.mp4, site: s.yaml, speed: 3}]", "cameras.0.speed"),
        ("cameras: [", "not valid YAML"),
    ):
        with pytest.raises(ConfigError, match=expected):
            load_cameras(_cameras(tmp_path, text))
    (camera,) = load_cameras(_cameras(tmp_path, f"cameras: [{{id: A, source: clip.mp4, site: {site}}}]"))
    assert camera.source == str(tmp_path / "clip.mp4")  # a file source is relative to the cameras file


def test_a_source_that_cannot_be_opened_is_retried_with_a_back_off_and_said(tmp_path):
    spec = CameraSpec(id="GONE", source=str(tmp_path / "no-such.mp4"), site=SAMPLES / "regal-chowk.yaml")
    stop = threading.Event()
    worker = threading.Thread(
        target=run_camera,
        args=(spec,),
        kwargs={"db": None, "out": tmp_path, "state": tmp_path, "stop": stop, "store": False},
    )
    worker.start()
    time.sleep(2.5)  # the first retry after 1 s, the second 2 s after that
    stop.set()
    worker.join(10)
    assert not worker.is_alive()
    (health,) = read_health(tmp_path)
    assert health["camera"] == "GONE" and health["status"] == "stopped"
    assert health["reconnects"] in (1, 2) and "no-such.mp4" in health["error"]


@pytest.mark.slow
def test_watch_processes_a_looped_camera_and_stops_cleanly_on_sigterm(tmp_path):
    site = SAMPLES / "regal-chowk.yaml"
    cameras = _cameras(
        tmp_path, f"cameras: [{{id: REGAL, source: {SAMPLES / 'regal-chowk.mp4'}, site: {site}, loop: true}}]"
    )
    db = f"sqlite:///{tmp_path / 'records.db'}"
    command = [
        ANPR,
        "watch",
        str(cameras),
        "--db",
        db,
        "--out",
        str(tmp_path / "out"),
    ]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    watcher = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    state = tmp_path / "out" / "state"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            health = read_health(state)
            if health and health[0]["frames"] >= 30:
                break
            assert watcher.poll() is None, watcher.stderr.read() if watcher.stderr else ""
            time.sleep(0.5)
        else:
            pytest.fail("the camera processed no frames in 120 s")
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(90) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
    (health,) = read_health(state)
    assert health["status"] == "stopped" and health["error"] is None and health["fps"] > 0
    segments = list((tmp_path / "out" / "REGAL").iterdir())
    assert segments and not any((s / "INCOMPLETE").exists() for s in segments)
    assert not any((s / "annotated.mp4").exists() for s in segments)  # no overlay for a live camera
    status = subprocess.run(
        [ANPR, "cameras", "status", "--out", str(tmp_path / "out"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0 and json.loads(status.stdout)["camera"] == "REGAL"
