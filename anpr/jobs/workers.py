"""Recorded footage processed at scale: one Celery task per video, run by `anpr worker` processes on
any number of machines that see the same files and the same records database.

Nothing is lost or done twice:
- a task is acknowledged only when it has finished (acks_late), and a worker process that dies
  mid-video (killed, out of memory) sends its task round again, up to MAX_RETRIES times, after
  which the job fails rather than kill workers forever (retry_on_worker_lost);
- each vehicle is stored as it closes, idempotently (anpr.jobs.footage), so the task run again after a
  crash stores only what was missing;
- a job's id is derived from the video file (path, size, modification time), the site file and the
  database, so submitting the same footage again finds the finished job instead of queuing it twice;
- bad footage (truncated, unreadable, wrong site file) fails its job with a one-line reason and is
  not retried; a database that goes away is retried with back-off.

Broker: ANPR_BROKER_URL (Redis `redis://...` or RabbitMQ `amqp://...`; default the local Redis).
Results: ANPR_RESULT_URL (default the broker when it is Redis, else the local Redis).
Queue: ANPR_QUEUE (default "anpr-footage"), so that several deployments can share one broker."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from celery import Celery

from anpr.errors import AnprError
from anpr.settings import environment

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "anpr-footage"
MAX_RETRIES = 3  # a worker lost, or the database away, this many times: the job fails
RETRY_DELAY_S = 5
PROGRESS = "PROGRESS"  # a running job's state, with {frames, total} as its meta
PROGRESS_EVERY = 25  # frames between progress reports
TASK_NAME = "anpr.process_footage"
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".ts", ".m4v", ".webm", ".mpg", ".mpeg"})


class _Progress(TypedDict):
    frames: int
    total: int | None  # None for a stream


class QueueUnreachable(AnprError):
    exit_code = 3


class FootageFailed(Exception):
    """A job that cannot succeed by running again (bad video or site file): not retried."""


def broker_url(url: str | None = None) -> str:
    return url or environment().broker_url or DEFAULT_BROKER


def result_url(broker: str) -> str:
    explicit = environment().result_url
    if explicit:
        return explicit
    return broker if broker.startswith(("redis://", "rediss://")) else DEFAULT_BROKER


def make_app(broker: str | None = None, queue: str | None = None) -> Celery:
    variables = environment()
    broker = broker_url(broker)
    app = Celery("anpr", broker=broker, backend=result_url(broker))
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,  # a video is minutes of work: take one at a time
        result_extended=True,
        result_expires=30 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        # A Redis broker hands an unacknowledged task to another worker after this long: it must exceed
        # the longest video a worker processes (RabbitMQ redelivers as soon as the connection drops).
        broker_transport_options={"visibility_timeout": variables.broker_visibility_s},
        worker_hijack_root_logger=False,
        task_default_queue=queue or variables.queue or DEFAULT_QUEUE,
    )
    app.task(
        name=TASK_NAME,
        bind=True,
        max_retries=MAX_RETRIES,
        default_retry_delay=RETRY_DELAY_S,
        retry_on_worker_lost=True,
    )(process_footage)
    return app


def process_footage(
    task,
    video: str,
    site: str,
    db: str | None = None,
    out: str | None = None,
    reader: str = "auto",
    region: str | None = None,  # None: the site file's plate_region
) -> dict:
    """The worker's side: anpr.jobs.footage.run_footage on one video; its summary is the task's result.
    While it runs, the task's state is PROGRESS with {frames, total} (total None for a stream)."""
    from sqlalchemy.exc import OperationalError

    from anpr.jobs.footage import run_footage

    progress: _Progress = {"frames": 0, "total": None}

    def report(force: bool = False) -> None:
        if force or progress["frames"] % PROGRESS_EVERY == 0:
            task.update_state(state=PROGRESS, meta=dict(progress))

    def started(_name: str, total: int | None) -> None:
        progress["total"] = total
        report(force=True)

    def frame() -> None:
        progress["frames"] += 1
        report()

    try:
        summary = run_footage(
            video,
            Path(site),
            db=db,
            out=Path(out) if out else None,
            reader=reader,
            region=region,
            on_start=started,
            on_frame=frame,
        )
    except AnprError as exc:
        raise FootageFailed(str(exc)) from None
    except OperationalError as exc:  # the database went away: what was stored stays, try again later
        raise task.retry(exc=exc, countdown=min(600, 30 * 4**task.request.retries)) from None
    return summary.to_json()


@dataclass(frozen=True)
class Job:
    id: str
    video: str
    out: str


def videos_in(paths: list[Path]) -> list[Path]:
    """The video files named, and those inside folders named (sorted, not recursive)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise AnprError(f"{path}: no such file or folder")
    if not found:
        raise AnprError("no video files found in " + ", ".join(str(p) for p in paths))
    return found


def shared_database_url(url: str | None) -> str:
    """The records database as every worker must name it: a SQLite file by its absolute path (a
    worker runs in another folder); the schema is brought up to date here, so an unreachable
    database fails before anything is queued."""
    import sqlalchemy as sa

    from challan.db import database_url, init_db

    url = database_url(url)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        url = parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)
    init_db(url)
    return url


def job_id(video: Path, site: Path, db: str | None) -> str:
    """The same footage with the same site file into the same database is the same job."""
    stat = video.stat()
    key = f"{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{site.resolve()}|{db or ''}"
    return "footage-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def submit(
    app: Celery,
    videos: list[Path],
    site: Path,
    *,
    db: str | None,
    out: Path,
    reader: str = "auto",
    region: str | None = None,  # None: the site file's plate_region
    again: bool = False,
) -> tuple[list[Job], list[Job]]:
    """Queue one task per video; returns (queued, already done). Paths are made absolute: workers
    must see the same files at the same paths."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    db = shared_database_url(db)
    queued, done = [], []
    try:
        for video in videos:
            job = Job(job_id(video, site, db), str(video), str((out / video.stem).resolve()))
            if not again and app.AsyncResult(job.id).state == "SUCCESS":
                done.append(job)
                continue
            app.send_task(
                TASK_NAME,
                kwargs={
                    "video": str(video.resolve()),
                    "site": str(site.resolve()),
                    "db": db,
                    "out": job.out,
                    "reader": reader,
                    "region": region,
                },
                task_id=job.id,
                retry_policy={"max_retries": 2, "interval_start": 0.5, "interval_step": 1},
            )
            queued.append(job)
    except (OperationalError, RedisError, OSError) as exc:
        raise QueueUnreachable(f"cannot reach the job queue at {app.conf.broker_url}: {exc}") from None
    return queued, done
