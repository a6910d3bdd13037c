"""`anpr watch` (live cameras at once, one process each) and `anpr cameras status` (their health).
The work is in anpr.jobs.watch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption

DEFAULT_OUT = Path("out/watch")
StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Folder of each camera's health file [default: ANPR_WATCH_STATE, else OUT/state].",
    ),
]


def state_folder(out: Path, state: Path | None) -> Path:
    from anpr.settings import environment

    return state or environment().watch_state or out / "state"


def watch(
    cameras: Annotated[
        Path,
        typer.Argument(
            help="Cameras file (YAML): each camera's id, source and site file.", show_default=False
        ),
    ],
    db: DbOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for each camera's evidence, by camera and start time.")
    ] = DEFAULT_OUT,
    state: StateOption = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Record events and violations.")] = True,
) -> None:
    """Process many live cameras at once, each in its own process, until Ctrl-C or SIGTERM: then each
    camera closes its open tracks, records them and stops. A stream that drops is reopened after a
    back-off (1 s, doubling to a minute); so is a camera process that dies. Each camera's health is
    written once a second for `anpr cameras status`.

    A source is an rtsp:// or http:// stream, a folder of frames, or a video file (`loop: true`
    plays it over and over at its frame rate, as a camera would send it).

    Example: `anpr watch cameras.yaml --db postgresql+psycopg://anpr@hub/anpr`
    """
    from anpr.jobs.watch import load_cameras
    from anpr.jobs.watch import watch as run

    specs = load_cameras(cameras)
    if store:
        from challan.db import check_ready

        check_ready(db)  # reachable and migrated, or one line, before any camera starts
    folder = state_folder(out, state)
    typer.echo(f"watching {len(specs)} camera(s); health in {folder}; Ctrl-C stops", err=True)
    run(
        specs,
        db=db,
        out=out,
        state=folder,
        store=store,
        on_change=lambda camera, what, pid: typer.echo(f"{camera}: {what} (pid {pid})", err=True),
    )
    typer.echo("stopped", err=True)


cameras_app = typer.Typer(
    rich_markup_mode="markdown", help="Live cameras run by `anpr watch`: their health.", no_args_is_help=True
)


@cameras_app.command("status")
def status(
    out: Annotated[Path, typer.Option("--out", help="The --out given to anpr watch.")] = DEFAULT_OUT,
    state: StateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per camera.")] = False,
) -> None:
    """Each camera's last frame, frames a second, lag, frames dropped, reconnects, vehicles and
    violations, as `anpr watch` last wrote them. A camera whose health is more than 10 s old is
    shown `silent`."""
    from anpr.jobs.health import read_health

    folder = state_folder(out, state)
    records = read_health(folder)
    if not records:
        raise typer.BadParameter(f"no camera health in {folder} (is anpr watch running with this --out?)")
    if as_json:
        for record in records:
            typer.echo(json.dumps(record))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "camera",
        "status",
        "last frame",
        "fps",
        "lag s",
        "dropped",
        "reconnects",
        "vehicles",
        "violations",
        "error",
    )
    for r in records:
        table.add_row(
            r["camera"],
            r["status"],
            (r["last_frame_at"] or "-")[11:19],
            f"{r['fps']:.1f}",
            f"{r['lag_s']:.2f}",
            str(r["dropped"]),
            str(r["reconnects"]),
            str(r["vehicles"]),
            str(r["violations"]),
            r["error"] or "",
        )
    Console().print(table)
