"""`anpr demo`: the main job end to end on the project's own sample clip, into an embedded SQLite
database: footage -> vehicle events -> pending violations -> one approved by an officer -> its PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
DEFAULT_CLIP = "regal-chowk"


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
    from challan import crud, lifecycle, pdf
    from challan.db import session_scope

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
    )
    with session_scope(db) as session:
        violations = crud.list_violations(session)
        records = crud.to_public(session, violations=violations)
        confidence = {v.id: v.plate_confidence for v in violations}
        console.print(f"[bold]2/3[/] {len(records)} suspected violations recorded")
        for record in records:
            console.print(
                f"    #{record.id} {record.plate or '(no plate)'} {record.violation} "
                f"{record.vehicle_type} {record.status} PKR {record.fine_pkr}"
            )
    # A demo officer approves the pending, fineable violation whose plate read is most certain; a
    # real one looks at the evidence first (anpr serve -> /officer/review).
    # A re-run prints the challan already issued instead of approving another.
    fineable = [r for r in records if r.status == "pending" and r.plate and r.fine_pkr is not None]
    target = next((r for r in records if r.number), None)
    target = target or max(fineable, key=lambda r: confidence[r.id], default=None)
    if target is None:
        console.print("no violation with a plate read in the sample clip")
        return
    if target.status == "pending":
        with session_scope(db) as session:
            lifecycle.approve_violation(session, violation_id=target.id, officer="Demo Officer (ETC-000)")
    with session_scope(db) as session:
        document = pdf.challan_pdf(session, key=str(target.id))
        number = crud.find_violation(session, key=str(target.id)).challan.number
    path = out / f"challan-{number}.pdf"
    path.write_bytes(document)
    console.print(
        f"[bold]3/3[/] violation #{target.id} approved by a demo officer: challan {number}, PDF {path}"
    )
    console.print(f"next: .venv/bin/anpr challan list --db {db}   |   .venv/bin/anpr serve --db {db}")


def sample_clip() -> tuple[Path, Path]:
    """The first sample clip with its site file (sample_videos/NAME.yaml beside NAME.mp4)."""
    from anpr.errors import InputError

    for site in sorted(SAMPLES.glob("*.yaml"), key=lambda path: path.stem != DEFAULT_CLIP):
        video = site.with_suffix(".mp4")
        if video.is_file():
            return video, site
    raise InputError(f"no sample clip in {SAMPLES}; run 'make samples' to generate them")
