"""`anpr demo`: the main job end to end on the project's own sample clip, into an embedded SQLite
database: footage -> vehicle events -> pending violations -> one approved by an officer -> its PDF.
The run itself is anpr.jobs.demo; this module prints it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption


def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for the database, annotated video, evidence, PDF.")
    ] = Path("demo-out"),
    db: DbOption = None,
) -> None:
    """Run the whole chain on the project's own sample clip, into SQLite.

    Processes sample_videos/ (detect, track, read, speed, signal), records the suspected violations,
    approves the one whose plate read is most certain as a demo officer and writes its challan PDF
    under --out. Re-running it adds nothing twice: events are recorded idempotently.
    """
    from rich.console import Console

    from anpr.cli.process import process
    from anpr.jobs.demo import issue_demo_challan, recorded_violations, sample_clip
    from anpr.weights import PROJECT_ROOT

    console = Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    db = db or f"sqlite:///{(out / 'anpr.db').resolve()}"
    video, site = sample_clip()
    console.print(f"[bold]1/3[/] processing {video.relative_to(PROJECT_ROOT)} (site {site.name}) into {db}")
    process(
        str(video),
        site=site,
        db=db,
        as_json=False,
        out=out / video.stem,
        fps=None,
        store=True,
        reader="auto",
        region=None,
        realtime=False,
    )
    records = recorded_violations(db)
    console.print(f"[bold]2/3[/] {len(records)} suspected violations recorded")
    for record in records:
        console.print(
            f"    #{record.id} {record.plate or '(no plate)'} {record.violation} "
            f"{record.vehicle_type} {record.status} PKR {record.fine_pkr}"
        )
    issued = issue_demo_challan(db, out)
    if issued is None:
        console.print("no violation with a plate read in the sample clip")
        return
    console.print(
        f"[bold]3/3[/] violation #{issued.violation_id} approved by a demo officer: challan {issued.number},"
        f" PDF {issued.pdf}"
    )
    console.print(f"next: .venv/bin/anpr challan list --db {db}   |   .venv/bin/anpr serve --db {db}")
