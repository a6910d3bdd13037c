"""`anpr batch` (queue recorded footage for the workers, follow it) and `anpr worker` (process it).
The work is done by anpr.jobs.workers and anpr.jobs.footage."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption, RegionOverride, fail
from anpr.settings import variable

BrokerOption = Annotated[
    str | None,
    typer.Option(
        "--broker",
        envvar=variable("broker_url"),
        show_envvar=True,
        help="Job queue: redis://host:6379/0 or amqp://user:pass@host// (default redis://127.0.0.1:6379/0).",
    ),
]

QueueOption = Annotated[
    str | None,
    typer.Option(
        "--queue",
        envvar=variable("queue"),
        show_envvar=True,
        help="Queue name, to keep deployments sharing one broker apart (default anpr-footage).",
    ),
]


def batch(
    paths: Annotated[list[Path], typer.Argument(help="Video files, or folders of them.", show_default=False)],
    site: Annotated[
        Path, typer.Option("--site", help="Site file (YAML) the footage was recorded at.", show_default=False)
    ],
    db: DbOption = None,
    broker: BrokerOption = None,
    queue: QueueOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for each video's annotated.mp4 and evidence/.")
    ] = Path("out"),
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the jobs until they finish, with progress.")
    ] = True,
    again: Annotated[
        bool, typer.Option("--again", help="Queue footage even if a finished job already processed it.")
    ] = False,
    reader: Annotated[str, typer.Option(help="Plate reader: auto, crnn, rapidocr, easyocr.")] = "auto",
    region: RegionOverride = None,
) -> None:
    """Queue recorded footage for the workers (`anpr worker`, on this or other machines sharing the
    files and the database): one job per video. Footage already processed with the same site file
    into the same database is not queued again. Exits 1 if any job failed, 3 if the queue or the
    database cannot be reached.

    Example: `anpr batch recordings/ --site sites/regal-chowk.yaml --db postgresql+psycopg://...`
    """
    from anpr.jobs.workers import make_app, submit, videos_in
    from anpr.site import load_site

    load_site(site)  # a bad site file fails here, before anything is queued
    videos = videos_in(paths)
    app = make_app(broker, queue)
    queued, done = submit(app, videos, site, db=db, out=out, reader=reader, region=region, again=again)
    for job in done:
        typer.echo(f"{job.video}: already processed (job {job.id}; --again to redo)", err=True)
    for job in queued:
        typer.echo(f"{job.video}: queued as {job.id}", err=True)
    if wait and queued:
        typer.echo("following the jobs (Ctrl-C stops following; the jobs stay queued)", err=True)
        failed = _follow(app, queued)
        if failed:
            raise fail(f"{failed} of {len(queued)} jobs failed")


def _follow(app, jobs) -> int:
    """A progress bar per video (frames, as its worker reports them) until each job has finished;
    one line per finished job. Returns the number that failed."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from anpr.jobs.workers import PROGRESS

    console = Console(stderr=True)
    failed = 0
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}")]
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        bars = {job.id: progress.add_task(Path(job.video).name, total=None, status="queued") for job in jobs}
        pending = {job.id: job for job in jobs}
        while pending:
            for job_id in list(pending):
                result = app.AsyncResult(job_id)
                bar = bars[job_id]
                if result.state == "SUCCESS":
                    s = result.result
                    progress.update(bar, total=s["frames"], completed=s["frames"], status="done")
                    console.print(
                        f"{pending.pop(job_id).video}: {s['vehicles']} vehicles, "
                        f"{s['violations']} suspected violations; video and evidence in {s['out']}",
                        soft_wrap=True,
                        markup=False,
                    )
                elif result.state == "FAILURE":
                    progress.update(bar, status="failed")
                    console.print(
                        f"{pending.pop(job_id).video}: failed: {result.result}", soft_wrap=True, markup=False
                    )
                    failed += 1
                elif result.state == PROGRESS and isinstance(result.info, dict):
                    frames, total = result.info.get("frames", 0), result.info.get("total")
                    progress.update(bar, total=total, completed=frames, status=f"{frames} frames")
                elif result.state in ("STARTED", "RETRY"):
                    progress.update(bar, status=result.state.lower())
            if pending:
                time.sleep(1.0)
    return failed


def worker(
    broker: BrokerOption = None,
    queue: QueueOption = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Videos processed at once (one process each).")
    ] = 1,
    name: Annotated[
        str, typer.Option(help="Worker name (unique per machine).")
    ] = f"anpr@{socket.gethostname()}",
    log_level: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Process queued footage (`anpr batch`) until stopped. Each process takes one video at a time
    (about 1 GB of memory) and stores its vehicles in the database the job names. Ctrl-C finishes
    the current videos first; a second Ctrl-C stops at once, and the unfinished videos are handed out
    again (at once with RabbitMQ, after ANPR_BROKER_VISIBILITY_S, default 6 h, with Redis).

    Example: `anpr worker --concurrency 2 --broker amqp://anpr:secret@queue-host//`
    """
    from anpr.jobs.workers import make_app

    app = make_app(broker, queue)
    app.worker_main(
        [
            "worker",
            f"--loglevel={log_level}",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            f"--hostname={name}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
