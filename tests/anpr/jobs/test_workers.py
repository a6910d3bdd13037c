"""Batch processing on real Celery workers (`anpr worker` subprocesses) through the real Redis and
RabbitMQ: footage in, the same records as `anpr process` out; nothing queued twice; a worker process
killed mid-video loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from anpr.errors import AnprError
from anpr.jobs.workers import job_id, make_app, shared_database_url, videos_in
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
ANPR = str(Path(sys.executable).with_name("anpr"))
CLIP, SITE = SAMPLES / "regal-chowk.mp4", SAMPLES / "regal-chowk.yaml"
VEHICLES = len(json.loads((SAMPLES / "regal-chowk.truth.json").read_text())["vehicles"])
VIOLATIONS = sum(
    len(v["violations"]) for v in json.loads((SAMPLES / "regal-chowk.truth.json").read_text())["vehicles"]
)


def counts(db: str) -> tuple[int, int, int]:
    """(events, distinct tracks, violations) in the records database."""
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        events = connection.execute(sa.text("SELECT count(*) FROM events")).scalar()
        tracks = connection.execute(
            sa.text("SELECT count(*) FROM (SELECT DISTINCT site_id, track_id, first_seen FROM events) t")
        ).scalar()
        violations = connection.execute(sa.text("SELECT count(*) FROM violations")).scalar()
    engine.dispose()
    return events, tracks, violations


class Worker:
    """`anpr worker` in a subprocess on its own queue; stopped (and its log kept) at the end."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.log = (tmp_path / "worker.log").open("w")
        name = f"test-{env['ANPR_QUEUE']}@localhost"
        self.process = subprocess.Popen(
            [ANPR, "worker", "--concurrency", "1", "--name", name, "--log-level", "INFO"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )

    def busy_child(self) -> psutil.Process:
        children = psutil.Process(self.process.pid).children()
        assert children, "the worker has no pool process"
        return children[0]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(params=["redis", "amqp"])
def queue_env(request, redis_url, tmp_path, monkeypatch):
    """Environment naming a fresh queue on the real broker (Redis or RabbitMQ), results in Redis."""
    if request.param == "amqp":
        broker = os.environ.get("ANPR_TEST_AMQP_URL")
        if not broker:
            pytest.skip("ANPR_TEST_AMQP_URL is not set (.ci/run sets it to the local RabbitMQ)")
    else:
        broker = redis_url
    env = {
        "ANPR_BROKER_URL": broker,
        "ANPR_RESULT_URL": redis_url,
        "ANPR_QUEUE": f"test-{uuid.uuid4().hex[:10]}",
        "COLUMNS": "60",  # a narrow terminal must not split the result lines scripts read
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return os.environ | env


def anpr(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([ANPR, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.slow
def test_footage_queued_processed_by_a_worker_and_not_queued_twice(queue_env, tmp_path):
    db = f"sqlite:///{tmp_path / 'records.db'}"
    worker = Worker(tmp_path, queue_env)
    try:
        args = ("batch", str(CLIP), "--site", str(SITE), "--db", db, "--out", str(tmp_path / "out"))
        first = anpr(*args, env=queue_env)
        assert first.returncode == 0, first.stderr + (tmp_path / "worker.log").read_text()[-3000:]
        assert "queued as footage-" in first.stderr
        assert f"{VEHICLES} vehicles, {VIOLATIONS} suspected violations" in first.stderr
        assert counts(db) == (VEHICLES, VEHICLES, VIOLATIONS)
        assert (tmp_path / "out" / "regal-chowk" / "annotated.mp4").stat().st_size > 10_000

        again = anpr(*args, env=queue_env)
        assert again.returncode == 0, again.stderr
        assert "already processed" in again.stderr and "queued as" not in again.stderr
        assert counts(db) == (VEHICLES, VEHICLES, VIOLATIONS)
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_worker_process_killed_mid_video_loses_and_duplicates_nothing(redis_url, tmp_path, monkeypatch):
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = os.environ | {"ANPR_BROKER_URL": redis_url, "ANPR_RESULT_URL": redis_url, "ANPR_QUEUE": queue}
    for key in ("ANPR_BROKER_URL", "ANPR_RESULT_URL", "ANPR_QUEUE"):
        monkeypatch.setenv(key, env[key])
    db = f"sqlite:///{tmp_path / 'records.db'}"
    worker = Worker(tmp_path, env)
    try:
        args = ("batch", str(CLIP), "--site", str(SITE), "--db", db, "--out", str(tmp_path / "out"))
        queued = anpr(*args, "--no-wait", env=env, timeout=120)
        assert queued.returncode == 0, queued.stderr
        job = make_app().AsyncResult(job_id(CLIP, SITE, shared_database_url(db)))
        deadline = time.monotonic() + 300
        while counts(db)[0] == 0:  # wait until the first vehicles are stored, then kill mid-video
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.2)
        stored_before_kill = counts(db)[0]
        assert job.state == "PROGRESS" and 0 < job.info["frames"] < job.info["total"]  # as batch shows it
        victim = worker.busy_child()
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert stored_before_kill < VEHICLES, "the video finished before the kill: nothing was tested"
        summary = job.get(timeout=400)
        assert summary["vehicles"] == VEHICLES
        assert counts(db) == (VEHICLES, VEHICLES, VIOLATIONS)
        log = (tmp_path / "worker.log").read_text()
        assert "WorkerLostError" in log or "exited prematurely" in log
    finally:
        worker.stop()


def test_videos_are_found_in_folders_and_bad_paths_refused(tmp_path):
    (tmp_path / "b.mp4").write_bytes(b"x")
    (tmp_path / "a.MKV").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a video")
    assert [p.name for p in videos_in([tmp_path])] == ["a.MKV", "b.mp4"]
    with pytest.raises(AnprError, match="no such file or folder"):
        videos_in([tmp_path / "missing.mp4"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnprError, match="no video files found"):
        videos_in([tmp_path / "empty"])


def test_a_job_is_the_same_footage_site_and_database(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"one")
    first = job_id(video, SITE, "sqlite:////x.db")
    assert job_id(video, SITE, "sqlite:////x.db") == first
    assert job_id(video, SITE, "sqlite:////y.db") != first
    assert job_id(video, SAMPLES / "canal-road.yaml", "sqlite:////x.db") != first
    video.write_bytes(b"changed")
    assert job_id(video, SITE, "sqlite:////x.db") != first


def test_a_relative_sqlite_database_is_named_absolutely_for_workers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = shared_database_url("sqlite:///records.db")
    assert url == f"sqlite:///{tmp_path / 'records.db'}"
    assert (tmp_path / "records.db").is_file()  # schema created before anything is queued


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["batch", "missing.mp4", "--site", str(SITE)], 1, "missing.mp4: no such file or folder"),
        (["batch", str(CLIP), "--site", "missing.yaml"], 2, "missing.yaml: site file not found"),
        (
            ["batch", str(CLIP), "--site", str(SITE), "--broker", "redis://127.0.0.1:1/0"],
            3,
            "cannot reach the job queue at redis://127.0.0.1:1/0",
        ),
    ],
    ids=["no-video", "no-site", "no-broker"],
)
def test_bad_input_gets_one_line_and_an_exit_code(tmp_path, args, code, message):
    env = os.environ | {"ANPR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "ANPR_RESULT_URL": ""}
    result = anpr(*args, env=env, timeout=120)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
